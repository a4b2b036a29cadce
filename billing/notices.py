"""The e-mails billing sends about an invoice (`InvoiceNotice`): recorded once, in the
transaction of the change they tell of, and sent after it commits by a task that claims
the row, so each goes once however often it is queued. One that could not be queued or
sent is sent again by the hourly card sweep (`notices_resend`).

Who hears: a declined card charge, the profile's invoice recipients; the steps of
non-payment (suspended, reinstated, disabled), the tenant's admins as well.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from portal.links import tenant_url
from portal.models import Membership, Role
from portal.money import format_money, locale_for_country, money_locale

from .models import (
    CardChargeAttempt,
    Invoice,
    InvoiceNotice,
    InvoiceNoticeKind,
    PaymentMethod,
)

log = logging.getLogger(__name__)

CLAIM_LEASE = datetime.timedelta(minutes=10)  # a claim older than this, unsent, was lost
RESEND_WITHIN = datetime.timedelta(days=2)  # an unsent notice this recent is tried again

SUBJECTS = {
    InvoiceNoticeKind.CARD_DECLINED: "We couldn't charge your card for invoice {number}",
    InvoiceNoticeKind.SUSPENDED: "Invoice {number} is overdue: its apps are suspended",
    InvoiceNoticeKind.REINSTATED: "Invoice {number} is paid: its apps work again",
    InvoiceNoticeKind.WRITTEN_OFF: "Invoice {number} was not paid: its apps are disabled",
}


def invoice_notice_record(
    invoice: Invoice, kind: str, *, key: int = 0, apps: list[str] | None = None
) -> InvoiceNotice | None:
    """Record the notice (None if it was recorded before) and send it once the caller's
    transaction commits."""
    try:
        with transaction.atomic():
            notice = InvoiceNotice.objects.create(
                invoice=invoice, kind=kind, key=key, apps=sorted(set(apps or []))
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _queue(notice.pk), robust=True)
    return notice


def _queue(notice_id: int) -> None:
    from .tasks import send_invoice_notice

    send_invoice_notice.apply_async((notice_id,), task_id=f"invoice-notice-{notice_id}")


def notices_resend() -> int:
    """Queue again every recent notice not sent (its task lost, or out of retries)."""
    ids = list(
        InvoiceNotice.objects.filter(
            sent_at__isnull=True, created_at__gte=timezone.now() - RESEND_WITHIN
        ).values_list("pk", flat=True)
    )
    for notice_id in ids:
        _queue(notice_id)
    return len(ids)


def notice_send(notice_id: int) -> bool:
    """Claim the notice, send it, mark it sent; whether this call sent it. Sent, or held by
    a live claim: nothing. A failed send gives the claim back and raises (the task retries)."""
    now = timezone.now()
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE)
    unsent = InvoiceNotice.objects.filter(pk=notice_id, sent_at__isnull=True)
    if not unsent.filter(free).update(claimed_at=now):
        return False
    mine = unsent.filter(claimed_at=now)
    try:
        notice = InvoiceNotice.objects.select_related(
            "invoice__tenant", "invoice__billing_profile"
        ).get(pk=notice_id)
        subject, body, to = notice_email(notice)
        if to:
            send_mail(subject, body, None, to)
    except Exception:
        mine.update(claimed_at=None)
        raise
    mine.update(sent_at=timezone.now())
    return True


def notice_recipients(notice: InvoiceNotice) -> list[str]:
    profile = notice.invoice.billing_profile
    emails = {*(profile.invoice_emails or [profile.email])}
    if notice.kind != InvoiceNoticeKind.CARD_DECLINED:
        admins = Membership.objects.for_tenant(profile.tenant_id).filter(
            role=Role.ADMIN, user__is_active=True
        )
        emails |= {*admins.values_list("user__email", flat=True)}
    return sorted(emails, key=str.lower)


def notice_email(notice: InvoiceNotice) -> tuple[str, str, list[str]]:
    """Subject, body and recipients of the notice, as its invoice stands now."""
    invoice = notice.invoice
    tenant = invoice.tenant
    pay = invoice.payment_method == PaymentMethod.CARD
    page = "bills:pay" if pay and invoice.amount_due else "bills:detail"
    context = {
        "notice": notice,
        "invoice": invoice,
        "url": settings.PORTAL_BASE_URL + tenant_url(page, tenant.slug, invoice_uuid=invoice.uuid),
        "pay_by_card": pay,
        "remittance": invoice.seller.get("remittance", {}),
    }
    if notice.kind == InvoiceNoticeKind.CARD_DECLINED:
        attempt = CardChargeAttempt.objects.get(invoice=invoice, number=notice.key)
        attempt.invoice = invoice
        context.update(attempt=attempt, next_try=attempt.next_try)
    with money_locale(locale_for_country(tenant.country)):
        context["due"] = format_money(invoice.amount_due, invoice.currency)
        if "attempt" in context:
            context["amount"] = format_money(context["attempt"].amount, invoice.currency)
        body = render_to_string(f"billing/email/{notice.kind}.txt", context)
    return SUBJECTS[notice.kind].format(number=invoice.number), body, notice_recipients(notice)
