from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal import services
from portal.audit import Actor
from portal.models import Role, Tenant


class Command(BaseCommand):
    help = (
        "Invite a person to a tenant by e-mail with a role: they get an e-mail (a new address "
        "a set-password one) and become a member on accepting. A member or someone already "
        "invited is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--role", default=Role.MEMBER, choices=Role.values)

    def handle(self, *args, email, tenant, role, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"Unknown tenant {tenant!r}.")
        try:
            invitation = services.invitation_create(
                tenant=found, email=email, role=role, actor=Actor.system("manage.py")
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"Invited {invitation.email} to {found.slug} as {invitation.get_role_display()}."
        )
