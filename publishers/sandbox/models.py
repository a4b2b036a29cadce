"""What the sandbox publisher keeps on its side: the API credentials of each publisher it
plays (as a real publisher keeps its client id and secret in its own configuration)."""

from django.db import models


class SandboxPublisher(models.Model):
    slug = models.SlugField(unique=True, help_text="The marketplace's slug of the publisher.")
    name = models.CharField(max_length=200)
    client_id = models.CharField(max_length=100)
    client_secret = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"Sandbox {self.name}"
