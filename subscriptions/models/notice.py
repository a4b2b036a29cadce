"""Notices: the record of the lifecycle e-mails, one row per event, so none goes twice.

A row is written when the sweep finds the event due (`subscriptions.notices.notices_send`)
claimed by the worker that sends it and marked sent once sent (`subscriptions.tasks`). The event is
the subscription, the kind and its key day: the term's end for a renewal reminder or an
expiry notice (each term gets its own), the day it was disabled for a disabled notice, the
day of the point (bought + 3 or + 14 days) for a set-up reminder. The database refuses a
second row for one event, so two sweeps at once record it once.
"""

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .subscription import Subscription

CLAIM_LEASE = datetime.timedelta(minutes=15)  # far longer than a send takes


class NoticeKind(models.TextChoices):
    RENEWAL_REMINDER = "renewal_reminder", "Renewal reminder"
    EXPIRY_NOTICE = "expiry_notice", "Expiry notice"
    DISABLED_NOTICE = "disabled_notice", "Disabled notice"
    SETUP_REMINDER = "setup_reminder", "Set-up reminder (3 days after purchase)"
    SETUP_LAST_REMINDER = "setup_last_reminder", "Set-up reminder (14 days after purchase)"


class Notice(models.Model):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    key = models.DateField(
        help_text="The event's day: the term's end, the day disabled, or the set-up point."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set when a worker takes it to send, given back if the send fails; a claim older than
    # CLAIM_LEASE with nothing sent is a lost worker's, and the notice may be taken again.
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="Empty until sent.")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "kind", "key"], name="notice_once_per_event"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=NoticeKind.values), name="notice_kind_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(sent_at__isnull=True), name="notice_unsent"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.subscription_id} for {self.key}"
