"""Background work of publishers: webhook delivery (one event per task, and the sweep that
re-sends what is due, every few seconds) and warnings of expiring API secrets (daily)."""

from celery import shared_task

from . import services, webhooks


@shared_task(acks_late=True)
def warn_expiring_secrets() -> int:
    """E-mail publishers whose API secrets expire within 30, 7 or 1 days (once each)."""
    return services.publisher_secret_warnings()


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhook(event_id: int) -> str | None:
    """One attempt at one outbox event (nothing when it isn't due or someone is at it)."""
    return webhooks.deliver(event_id)


@shared_task(acks_late=True, ignore_result=True)
def sweep_webhooks() -> int:
    """Send a task for every outbox event that is due and not on its way (Celery beat,
    every few seconds): the outbox, not the queue, says what is left to deliver."""
    due = webhooks.webhooks_due()
    for sent, (event_id, attempt) in enumerate(due):
        if not webhooks.send_task(deliver_webhook, event_id, attempt):
            webhooks.not_sent([pk for pk, _ in due[sent + 1 :]])  # the broker is down: next sweep
            return sent
    return len(due)
