import sys

from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from billing.services import invoicing_period, invoicing_run
from portal.management.options import day_option, tenant_option


class Command(BaseCommand):
    help = (
        "Issue the invoices of the month before --date (default: today, UTC): each billing "
        "profile's charges made before that month's end and not yet invoiced become one "
        "invoice, and credits for charges already invoiced credit notes against their "
        "invoices. Safe to run twice: what was invoiced is not again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the run's day, YYYY-MM-DD (default: today)")
        parser.add_argument("--tenant", help="invoice only this tenant's profiles (its slug)")
        parser.add_argument("--dry-run", action="store_true", help="count, write nothing")

    def handle(self, *args, date, tenant, dry_run, **options):
        day = day_option(date, example="2027-01-01") if date else timezone.now().date()
        scope = tenant_option(tenant) if tenant else None
        bar = None

        def progress(done, total):
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, desc="Invoicing", unit=" profiles")
            bar.update(done)

        # A bar only in a terminal: a log (cron, CI) gets the summary alone.
        show = sys.stderr.isatty()
        summary = invoicing_run(
            day=day, tenant=scope, dry_run=dry_run, progress=progress if show else None
        )
        if bar is not None:
            bar.close()
        start, end = invoicing_period(day)
        period = f"{start:%B %Y}" if end.month != start.month else str(start)
        prefix = "Dry run, nothing written: would issue " if dry_run else "Issued "
        self.stdout.write(f"{prefix}{summary} for {period}.")
