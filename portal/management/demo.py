"""What every command that loads demo data shares: it refuses to run in production."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class DemoCommand(BaseCommand):
    """Subclasses implement `seed(**options)`; with DEBUG off they run only given --force."""

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even though DEBUG is off")

    def handle(self, *args, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG is off: this looks like production. Use --force to seed.")
        self.seed(**options)

    def seed(self, **options):
        raise NotImplementedError
