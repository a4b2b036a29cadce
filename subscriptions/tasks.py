"""Background work of subscriptions: the daily lifecycle sweep, fanned out over workers,
and the lifecycle e-mails it records (`send_notice`). Tasks are thin: they take ids.

`purge_marketplace_tokens` (Celery beat, daily) deletes expired landing-page tokens;
`confirm_silent_changes` (every few seconds) applies the customers' changes whose
publishers let them pass in silence.

`lifecycle_sweep` (Celery beat, daily) takes the oldest day not yet swept, sends one
`lifecycle_chunk` task per chunk of the subscriptions due that day (each task's id says the
day and the chunk), then `lifecycle_finish`, which waits until nothing of the day is due any
more, sending again any chunk whose message was lost, marks the day swept and starts the
next missed day. The database, not the queue, says what is left: every task is idempotent,
and two workers given the same chunk move each subscription once (services.sweep).
"""

import datetime
import logging

from celery import shared_task
from django.core.mail import EmailMultiAlternatives, mailers
from django.db.models import Q
from django.utils import timezone

from .models import Notice
from .models.notice import CLAIM_LEASE
from .notices import notice_email, notices_send
from .services import changes_confirm_silent, marketplace_tokens_purge, sweep
from .services.common import utc_day
from .services.dunning import dunning_day

log = logging.getLogger(__name__)

FIRST_LOOK = 5  # seconds after the chunks are sent: lifecycle_finish's first look
FINISH_EVERY = 10  # seconds between its later looks at what is left
FINISH_TRIES = 720  # two hours of them; the next day's sweep takes the day up again
RESEND_EVERY = 30  # a chunk still due after this many looks (5 minutes) is sent again


@shared_task(acks_late=True)
def confirm_silent_changes() -> int:
    """Apply the customers' changes their publishers let pass in silence (Celery beat,
    every few seconds; services.confirm)."""
    return changes_confirm_silent()


@shared_task(acks_late=True)
def purge_marketplace_tokens() -> int:
    """Delete expired marketplace tokens (Celery beat, daily)."""
    return marketplace_tokens_purge()


def _send_chunks(day: datetime.date, chunks) -> None:
    for first, last, _size in chunks:
        lifecycle_chunk.apply_async(
            (day.isoformat(), first, last), task_id=f"lifecycle-{day}-{first}-{last}"
        )


@shared_task(bind=True, acks_late=True)
def lifecycle_sweep(self) -> None:
    """The oldest day not yet swept, up to today: its chunks sent, then its finish (which
    starts the next missed day). Run eager (the demo), the chunks and the finish run here,
    and the missed days follow in this loop rather than one call deeper each."""
    while True:
        day = sweep.days_to_sweep(utc_day())[0]
        sweep.day_start(day)
        chunks = sweep.plan_chunks(day)
        _send_chunks(day, chunks)
        lifecycle_finish.apply_async(
            (day.isoformat(),),
            countdown=FIRST_LOOK if chunks else 0,
            task_id=f"lifecycle-{day}-finish",
        )
        if not self.request.is_eager or day >= utc_day():
            return


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=5, max_retries=5)
def lifecycle_chunk(day: str, first: int, last: int) -> None:
    """Move what is due on `day` among subscriptions `first`..`last` (one transaction)."""
    moment = datetime.date.fromisoformat(day)
    sweep.sweep_range(moment, first, last)


@shared_task(bind=True, acks_late=True, max_retries=FINISH_TRIES)
def lifecycle_finish(self, day: str) -> None:
    """Once nothing of `day` is due, the day is swept and the next missed day starts."""
    moment = datetime.date.fromisoformat(day)
    if left := sweep.plan_chunks(moment, skip=sweep.failed_ids(moment)):
        if self.request.retries < FINISH_TRIES:
            if self.request.retries % RESEND_EVERY == RESEND_EVERY - 1:
                _send_chunks(moment, left)  # lost or failed: send them again
            raise self.retry(countdown=FINISH_EVERY)
        # A chunk that fails every time must not hold back the days after it: they are
        # swept, and each of them tries again what is still due ("due by the day").
        log.error("Lifecycle sweep of %s: %d chunks still due after every try.", day, len(left))
    dunning_day(moment)  # non-payment: suspensions, reinstatements, disablements
    notices_send(day=moment)  # the day's e-mails, after its moves (an expiry's notice)
    sweep.day_finish(moment)
    if moment < utc_day() and not self.request.is_eager:  # eager: lifecycle_sweep loops
        lifecycle_sweep.delay()


# Lifecycle e-mails (subscriptions.notices). The claim makes a notice go once, however often
# it is queued; a send that fails gives the claim back and retries, so it isn't lost. A day's
# notices go in batches (`send_notices`, one mail connection each); one whose send fails is
# handed to `send_notice`, which retries it alone.
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
    return _send(notice_id, mailers.default)


@shared_task(
    bind=True,
    autoretry_for=(OSError,),  # the mail server can't be reached: nothing was claimed yet
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=8,
    acks_late=True,
)
def send_notices(self, notice_ids: list[int]) -> int:
    """Send a batch of notices over one mail connection; how many this call sent."""
    sent, mailer = 0, mailers.default
    with mailer:  # one connection for the batch
        for notice_id in notice_ids:
            try:
                sent += _send(notice_id, mailer)
            except Exception:
                log.warning("Notice %s not sent; it is retried alone.", notice_id, exc_info=True)
                if not self.request.is_eager:  # eager (the demo): the next sweep sends it
                    send_notice.apply_async((notice_id,), countdown=60)
    return sent


def _send(notice_id: int, mailer) -> bool:
    """Claim the notice, send it, mark it sent; whether this call sent it. Taken already by
    a live claim, or sent: nothing. A worker lost between claim and send leaves a claim that
    runs out (CLAIM_LEASE), and the next sweep's `_send_unsent` queues the notice again."""
    now = timezone.now()
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE)
    unsent = Notice.objects.filter(pk=notice_id, sent_at__isnull=True)
    if not unsent.filter(free).update(claimed_at=now):
        return False
    mine = unsent.filter(claimed_at=now)
    try:
        email = notice_email(Notice.objects.get(pk=notice_id))
        if email.to:
            message = EmailMultiAlternatives(email.subject, email.body, to=email.to)
            message.attach_alternative(email.html, "text/html")
            mailer.send_messages([message])
    except Exception:
        mine.update(claimed_at=None)
        raise
    mine.update(sent_at=timezone.now())
    return True
