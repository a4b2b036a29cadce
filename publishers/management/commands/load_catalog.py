import argparse
import textwrap
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter

from publishers import catalog_file, services
from publishers.catalog_file import DEMO_CATALOG, CatalogError, read_catalog
from publishers.sandbox.urls import sandbox_landing_url, sandbox_webhook_url


class _HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keeps the help's example as written."""


class Command(BaseCommand):
    help = (
        textwrap.fill(
            "Create or update publishers, apps, plans and prices from a JSON catalog file, or "
            "from the demo catalog with --demo (it needs the tenant contoso, which seed_demo "
            "creates). The whole file is checked first: one problem, and nothing is loaded. "
            "Publishers, apps and plans not in the file are left alone; the prices of the "
            "plans it names become exactly the file's. Safe to run twice.",
            width=96,
        )
        + "\n\n"
        + catalog_file.__doc__
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        return super().create_parser(prog_name, subcommand, formatter_class=_HelpFormatter)

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the catalog, a JSON file")
        parser.add_argument(
            "--demo", action="store_true", help=f"load the demo catalog ({DEMO_CATALOG.name})"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count the changes, keep none"
        )

    def handle(self, *args, file, demo, dry_run, **options):
        if bool(file) == demo:
            raise CommandError("Give either a catalog file or --demo.")
        path = DEMO_CATALOG if demo else Path(file)
        try:
            catalog = read_catalog(path)
            if demo:
                # The demo's publishers are played by the sandbox publisher, on this portal:
                # its landing pages and its webhook receiver, not the file's made-up hosts
                # (seed_sandbox_publishers gives it their webhook secrets).
                for publisher in catalog.publishers:
                    publisher.landing_page_url = sandbox_landing_url(publisher.slug)
                    publisher.webhook_url = sandbox_webhook_url(publisher.slug)
            summary = services.catalog_load(catalog=catalog, dry_run=dry_run)
        except CatalogError as error:
            count = len(error.errors)
            heading = f"{path.name}: {count} error{'s' if count != 1 else ''}, nothing loaded"
            raise CommandError("\n".join([heading, *error.errors])) from None
        verb = "Would load" if dry_run else "Loaded"
        self.stdout.write(f"{verb} {path.name}: {summary}.")
