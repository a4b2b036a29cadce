from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"

    def ready(self):
        from billing.signals import invoice_paid
        from publishers.signals import webhook_settled
        from publishers.webhooks import bodies_from

        from . import permissions  # noqa: F401  (registers who may browse the Marketplace)
        from .services.confirm import on_webhook_settled
        from .services.dunning import on_invoice_paid
        from .services.outbox import render_bodies

        bodies_from(render_bodies)  # the webhooks the lifecycle sweep wrote without a body
        # A 4xx answer to a waiting change's webhook declines it.
        webhook_settled.connect(on_webhook_settled, dispatch_uid="subscriptions.confirm")
        # An overdue invoice paid in full: its suspended subscriptions work again.
        invoice_paid.connect(on_invoice_paid, dispatch_uid="subscriptions.dunning")
