from django.apps import AppConfig
from django.db.models.signals import post_delete


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from portal.models import Membership
        from portal.signals import member_removed

        from .services import billing_profile_roles_of_departed_member

        def drop_roles_of_removed(sender, membership, actor, **kwargs):
            # Sent by portal's member_remove: the revokes name the person who removed them.
            billing_profile_roles_of_departed_member(membership=membership, actor=actor)

        def drop_roles(sender, instance, **kwargs):
            # Any other deletion (a tenant's cascade): nothing is left behind either.
            billing_profile_roles_of_departed_member(membership=instance)

        member_removed.connect(
            drop_roles_of_removed, weak=False, dispatch_uid="billing.roles.member_removed"
        )
        post_delete.connect(drop_roles, sender=Membership, weak=False, dispatch_uid="billing.roles")
