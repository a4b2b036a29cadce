import logging
import time

from celery.schedules import schedule
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


def _frequent(entry) -> bool:
    """A job that runs every few seconds (its schedule an interval under a minute)."""
    run_every = getattr(entry["schedule"], "run_every", None)
    return isinstance(entry["schedule"], schedule) and run_every.total_seconds() < 60


class Command(BaseCommand):
    help = (
        "Run the periodic jobs of CELERY_BEAT_SCHEDULE in this process: each once at start, "
        "then on its schedule. What Celery beat does in production, for the demo (where "
        "Celery runs eager, so the jobs' own tasks run here too)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run each job once and stop")
        parser.add_argument(
            "--every", type=float, default=30, help="seconds between looks (default 30)"
        )

    def handle(self, *args, once, every, **options):
        last_run = {}
        while True:
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
                if name in last_run and not entry["schedule"].is_due(last_run[name]).is_due:
                    continue
                last_run[name] = timezone.now()
                try:  # a failure is logged, and the job tried again at its next time
                    task = import_string(entry["task"])  # a task's name is its import path
                    # throw=False: a failure is the result's, whatever eager's settings say
                    result = task.apply(entry.get("args", ()), entry.get("kwargs", {}), throw=False)
                except Exception:
                    log.exception("Periodic job %s could not run.", name)
                    continue
                if result.failed():
                    log.error("Periodic job %s failed:\n%s", name, result.traceback)
                elif not (_frequent(entry) and result.result == 0):  # quiet when idle
                    self.stdout.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} ran {name}")
            if once:
                return
            time.sleep(every)
