"""The ceiling of bench/webhooks.py: a Celery task that does nothing, run by the same worker
with the portal's Celery settings (acks late, prefetch 1)."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def noop(n: int) -> None:
    return None
