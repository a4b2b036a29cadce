"""The webhook outbox: every change a publisher must hear of, written in the transaction that
made it, and every attempt to deliver it (`publishers.webhooks` delivers).

The outbox is the truth, not the queue: an event is `pending` until an answer settles it,
due at `next_attempt_at`; `enqueued_at` says when a task was last sent for it (so the sweep
doesn't send one again while it is on its way) and `claimed_until` that a worker is
delivering it now. A replay (`manage.py webhooks replay`, the admin's Replay) makes a
settled event pending again: same webhook-id, its attempts numbered on. Per subscription,
events go out in the order they were written: one waits while an earlier one of the same
subscription is still pending.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .catalog import Publisher

EXCERPT = 1024  # characters of an answer kept with its attempt


class WebhookStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"  # a 2xx answer
    DECLINED = "declined", "Declined"  # a 4xx answer: the publisher said no
    FAILED = "failed", "Failed"  # no answer that settles it before the retries ran out


class WebhookEventQuerySet(models.QuerySet):
    def due(self, now=None):
        """Pending, due, and first in line for its subscription."""
        now = now or timezone.now()
        earlier = WebhookEvent.objects.filter(
            subscription_id=models.OuterRef("subscription_id"),
            pk__lt=models.OuterRef("pk"),
            status=WebhookStatus.PENDING,
        )
        return self.filter(status=WebhookStatus.PENDING, next_attempt_at__lte=now).exclude(
            models.Exists(earlier)
        )


class WebhookEvent(models.Model):
    # The `webhook-id` header: the operation's id, so receivers dedupe by it.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    publisher = models.ForeignKey(Publisher, on_delete=models.PROTECT, related_name="webhooks")
    subscription = models.ForeignKey(
        "subscriptions.Subscription", on_delete=models.CASCADE, related_name="webhooks"
    )
    action = models.CharField(max_length=20)
    body = models.TextField(help_text="The JSON sent, exactly as signed.")
    status = models.CharField(
        max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.PENDING
    )
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    give_up_at = models.DateTimeField(help_text="No attempt after this: it has failed.")
    settled_at = models.DateTimeField(null=True, blank=True)
    first_success_at = models.DateTimeField(
        null=True, blank=True, help_text="When an attempt first got a 2xx answer."
    )

    objects = WebhookEventQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_pending_due",
            ),
            models.Index(fields=["subscription", "id"], name="webhook_subscription_order"),
            # What the sweep renders: written by a batch, no body yet (publishers.webhooks).
            models.Index(
                fields=["id"],
                condition=Q(status="pending", body=""),
                name="webhook_pending_unrendered",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=WebhookStatus.values), name="webhook_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", settled_at__isnull=True)
                | (~Q(status="pending") & Q(settled_at__isnull=False)),
                name="webhook_settled_iff_not_pending",
            ),
        ]

    def __str__(self):
        return f"{self.action} {self.uuid} to {self.publisher}: {self.status}"


class WebhookAttempt(models.Model):
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    url = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["event", "number"]
        constraints = [
            models.UniqueConstraint(fields=["event", "number"], name="webhook_attempt_once"),
        ]

    def __str__(self):
        return f"attempt {self.number} of {self.event_id}: {self.status_code or self.error}"
