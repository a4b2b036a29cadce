import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from portal.management.options import day_option, tenant_option
from subscriptions.services.sweep import run_lifecycle


class Command(BaseCommand):
    help = (
        "Renew, expire and time out the subscriptions due, for every day not yet swept up "
        "to --date (default: today, UTC), oldest first. Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day to sweep up to, YYYY-MM-DD (default: today)")
        parser.add_argument("--tenant", help="sweep only this tenant's subscriptions (its slug)")
        parser.add_argument("--dry-run", action="store_true", help="count, write nothing")

    def handle(self, *args, date, tenant, dry_run, **options):
        day = day_option(date) if date else None
        scope = tenant_option(tenant) if tenant else None
        bars = {}
        # A bar only in a terminal: a log (cron, CI) gets the summary alone.
        show = sys.stderr.isatty() and not dry_run

        def progress(each, moved, total):
            if each not in bars:
                bars[each] = tqdm(total=total, desc=str(each), unit=" subscriptions")
            bars[each].update(moved)
            if bars[each].n >= total:
                bars[each].close()

        counts = run_lifecycle(
            day=day, tenant=scope, dry_run=dry_run, progress=progress if show else None
        )
        for bar in bars.values():
            bar.close()
        self.stdout.write(("Dry run, nothing written: " if dry_run else "") + f"{counts}.")
