"""Background work of publishers: warnings of expiring API secrets (Celery beat, daily)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def warn_expiring_secrets() -> int:
    """E-mail publishers whose API secrets expire within 30, 7 or 1 days (once each)."""
    return services.publisher_secret_warnings()
