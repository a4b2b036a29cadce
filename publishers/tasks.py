"""Background work of publishers: webhook delivery (a change's own event, or a batch of those
due, a task; the sweep that re-sends what is due, every few seconds) and warnings of expiring
API secrets (daily)."""

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
def deliver_webhooks(event_ids: list[int]) -> int:
    """One attempt at each of the outbox events, one after the other (those not due or that
    someone is at, none); how many were attempted."""
    return len(webhooks.deliver_many(event_ids))


@shared_task(acks_late=True, ignore_result=True)
def sweep_webhooks() -> int:
    """Send the tasks of every outbox event that is due and not on its way (Celery beat,
    every few seconds), a batch of them a task: the outbox, not the queue, says what is left
    to deliver."""
    return webhooks.send_batches(deliver_webhooks, webhooks.webhooks_due())
