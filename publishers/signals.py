"""What publishers tells the apps above it, which it never imports (ARCHITECTURE.md)."""

from django.dispatch import Signal

# A webhook event is settled: delivered, declined (a 4xx to a change that asks) or failed
# (retries ran out); or declined by an attempt that outlived its claim, while another
# worker's is the event's (the publisher's no stands). Sent with `event` (a WebhookEvent)
# inside the transaction that settles it, so a receiver's writes commit or roll back with
# it. A replayed event settles again: receivers must take a second one calmly.
webhook_settled = Signal()
