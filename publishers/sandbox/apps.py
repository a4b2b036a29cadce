from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "publishers.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox publisher"
    default_auto_field = "django.db.models.BigAutoField"
