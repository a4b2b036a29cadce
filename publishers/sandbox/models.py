"""What the sandbox publisher keeps on its side: the API credentials of each publisher it
plays (as a real publisher keeps its client id and secret in its own configuration), the
secret its webhooks are signed with, how its receiver answers them, and what it received."""

import json

from django.db import models
from django.utils import timezone


class Answer(models.TextChoices):
    """How the receiver answers a change the marketplace asks it about (InProgress)."""

    ACCEPT = "accept", "Accept"  # PATCH the operation Success on receipt
    DECLINE = "decline", "Decline"  # PATCH it Failure
    SILENT = "silent", "Say nothing"  # 200, no PATCH: the marketplace accepts after 10 s
    REFUSE = "refuse", "Refuse (400)"  # a 4xx answer: the marketplace takes it as declined


class SandboxPublisher(models.Model):
    slug = models.SlugField(unique=True, help_text="The marketplace's slug of the publisher.")
    name = models.CharField(max_length=200)
    client_id = models.CharField(max_length=100)
    client_secret = models.CharField(max_length=200)
    webhook_secret = models.CharField(
        max_length=60,
        blank=True,
        help_text="The secret the marketplace signs its webhooks with (whsec_...).",
    )
    answer = models.CharField(
        max_length=10,
        choices=Answer.choices,
        default=Answer.ACCEPT,
        help_text="How its receiver answers a change the marketplace asks it about.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"Sandbox {self.name}"


class SandboxReceived(models.Model):
    """One webhook the receiver took (its signature checked), once per webhook-id."""

    publisher = models.ForeignKey(
        SandboxPublisher, on_delete=models.CASCADE, related_name="received"
    )
    webhook_id = models.CharField(max_length=200)
    action = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=40, blank=True)
    subscription_id = models.CharField(max_length=100, blank=True)
    operation_id = models.CharField(max_length=100, blank=True)
    request_source = models.CharField(
        max_length=40, blank=True, help_text="The webhook's operationRequestSource."
    )
    body = models.TextField(help_text="The webhook's body, as received.")
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=500, blank=True, help_text="What the receiver did.")

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["publisher", "webhook_id"], name="sandbox_received_once"
            ),
        ]
        indexes = [models.Index(fields=["publisher", "-received_at"], name="sandbox_received_at")]

    def __str__(self):
        return f"{self.action or 'Webhook'} {self.webhook_id}"

    @property
    def payload(self) -> dict:
        try:
            payload = json.loads(self.body)
        except ValueError:
            return {}
        return payload if isinstance(payload, dict) else {}
