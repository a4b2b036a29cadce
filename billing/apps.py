from django.apps import AppConfig
from django.db.models.signals import post_delete


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from portal.models import Membership
        from portal.signals import member_removed

        from .services import billing_profile_roles_of_departed_member

        def member_left(sender, membership, actor, **kwargs):
            billing_profile_roles_of_departed_member(membership=membership, actor=actor)

        def drop_roles(sender, instance, **kwargs):  # a membership deleted any other way
            billing_profile_roles_of_departed_member(membership=instance)

        member_removed.connect(member_left, weak=False, dispatch_uid="billing.member_left")
        post_delete.connect(drop_roles, sender=Membership, weak=False, dispatch_uid="billing.roles")
