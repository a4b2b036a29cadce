from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal import services
from portal.audit import Actor
from portal.models import Role, Tenant


class Command(BaseCommand):
    help = (
        "Add a person to a tenant by e-mail with a role. A new user is created and sent "
        "a set-password e-mail; an existing member is refused."
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
            membership = services.member_add(
                tenant=found, email=email, role=role, actor=Actor.system("manage.py")
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"Added {membership.user.email} to {found.slug} as {membership.get_role_display()}."
        )
