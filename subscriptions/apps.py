from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"

    def ready(self):
        from . import permissions  # noqa: F401  (registers who may browse the Marketplace)
