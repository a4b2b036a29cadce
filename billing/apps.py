from django.apps import AppConfig
from django.db.models.signals import post_delete


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from portal.models import Membership

        from .services import billing_profile_roles_of_departed_member

        def drop_roles(sender, instance, **kwargs):
            billing_profile_roles_of_departed_member(membership=instance)

        post_delete.connect(drop_roles, sender=Membership, weak=False, dispatch_uid="billing.roles")
