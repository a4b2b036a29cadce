"""Operations: the Fulfillment API's record of each change to a subscription, as the
publisher sees it (`GET .../operations/{id}`, the `Operation-Location` of a 202).

A change the publisher made through the API is recorded `Succeeded` (it took effect at
once); the "Webhooks and operations" issue adds those a customer asks for, which wait
`InProgress` for the publisher's answer.
"""

import uuid
from uuid import uuid4

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
    error_status_code = models.CharField(max_length=10, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
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
