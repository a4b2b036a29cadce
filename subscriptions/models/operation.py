"""Operations: the Fulfillment API's record of each change to a subscription, as the
publisher sees it (`GET .../operations/{id}`, the `Operation-Location` of a 202).

A change the publisher made through the API, and every change the publisher is told of,
is recorded `Succeeded` (it took effect at once). A customer's quantity change on an active
subscription waits `InProgress` for the publisher's answer (services/confirm.py): `Succeeded`
when it took effect, `Failed` when the publisher declined it (or never got its webhook), and
`Conflict` when a change that did take effect (the publisher's own, a cancellation, a
renewal) overtook it.
"""

import uuid
from uuid import uuid4

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .subscription import Subscription


class OperationAction(models.TextChoices):
    CHANGE_PLAN = "ChangePlan"
    CHANGE_QUANTITY = "ChangeQuantity"
    SUBSCRIBE = "Subscribe"
    RENEW = "Renew"
    SUSPEND = "Suspend"
    UNSUBSCRIBE = "Unsubscribe"
    REINSTATE = "Reinstate"


class OperationStatus(models.TextChoices):
    NOT_STARTED = "NotStarted"
    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CONFLICT = "Conflict"


class OperationSource(models.TextChoices):
    CUSTOMER = "Azure", "The customer, in the portal"
    PUBLISHER = "Partner", "The publisher, through the API"


class Operation(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    activity_id = models.UUIDField(default=uuid4, editable=False)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="operations"
    )
    action = models.CharField(max_length=20, choices=OperationAction.choices)
    status = models.CharField(max_length=20, choices=OperationStatus.choices)
    source = models.CharField(max_length=10, choices=OperationSource.choices)
    plan_id = models.CharField(max_length=50)
    quantity = models.PositiveIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who asked for a change that waits for the publisher.",
    )
    error_status_code = models.CharField(max_length=10, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(  # the few waiting for an answer: read on every page of the app
                fields=["subscription"],
                condition=Q(status="InProgress"),
                name="operation_in_progress",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=OperationAction.values), name="operation_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OperationStatus.values), name="operation_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=OperationSource.values), name="operation_source_valid"
            ),
        ]

    def __str__(self):
        return f"{self.action} of {self.subscription_id}: {self.status}"
