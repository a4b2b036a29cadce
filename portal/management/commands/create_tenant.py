from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal import services
from portal.audit import Actor
from portal.regions import UnsupportedCountry


class Command(BaseCommand):
    help = "Create a tenant (an organization) in a supported country. Prints its URL slug."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the organization's display name")
        parser.add_argument("--country", required=True, help="ISO code, e.g. US, DE, GB")
        parser.add_argument("--slug", default="", help="URL slug (default: from the name)")

    def handle(self, *args, name, country, slug, **options):
        try:
            tenant = services.tenant_create(
                name=name, country=country, slug=slug, actor=Actor.system("manage.py")
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        except UnsupportedCountry as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.name}, {tenant.currency}).")
