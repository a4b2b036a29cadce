"""The days the lifecycle sweep has finished: what lets a missed day be caught up."""

from django.db import models


class LifecycleRun(models.Model):
    """One UTC day of the lifecycle sweep (`services.sweep`). `finished_at` is set once every
    chunk of the day is done and its e-mails are queued; the counts add up over the day's
    runs (a rerun changes nothing, so adds nothing)."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    renewed = models.PositiveIntegerField(default=0)
    expired = models.PositiveIntegerField(default=0)
    timed_out = models.PositiveIntegerField(default=0)
    # Ids of the subscriptions the day could not move (each logged with why); the finish
    # does not wait for them, and the next day's sweep tries them again.
    failed = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self):
        return f"Lifecycle sweep of {self.day}"
