"""Background work of subscriptions (ARCHITECTURE.md, Background work): thin tasks that take
ids and call the services."""

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from .models import Notice
from .notices import notice_email


# Lifecycle e-mails (subscriptions.notices). The claim makes a notice go once, however often
# it is queued; a send that fails gives the claim back and retries, so it isn't lost.
@shared_task(
    bind=True,
    autoretry_for=(OSError,),  # SMTP and network errors, after the claim is given back
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
    acks_late=True,
)
def send_notice(self, notice_id: int) -> bool:
    """Send the notice's e-mail unless it was sent (or is being sent); whether this call
    sent it. One message to all its recipients, so it goes to all of them or to none."""
    now = timezone.now()
    claimed = Notice.objects.filter(pk=notice_id, sent_at__isnull=True).update(sent_at=now)
    if not claimed:
        return False
    try:
        email = notice_email(Notice.objects.get(pk=notice_id))
        if email.to:
            send_mail(email.subject, email.body, None, email.to, html_message=email.html)
    except Exception:
        Notice.objects.filter(pk=notice_id, sent_at=now).update(sent_at=None)
        raise
    return True
