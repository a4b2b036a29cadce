"""Background work of the portal core. Tasks are thin: they take ids or plain values."""

from celery import shared_task
from django.core.mail import send_mail


@shared_task(
    autoretry_for=(OSError,),  # SMTP and network errors
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=8,
    acks_late=True,
)
def send_email(subject: str, body: str, to: list[str], html: str | None = None) -> None:
    """Send one e-mail (plain text, and HTML beside it when given), retried with backoff
    while the mail server fails."""
    send_mail(subject, body, None, to, html_message=html)
