"""The invoice run: each billing profile's uninvoiced charges of a period become one issued
invoice, and credits for charges already invoiced become credit notes against the invoices
that billed them.

`invoicing_run` (the command, and Celery beat through `tasks.invoicing_run`) closes the
month before its day: the charges made before that month's end, not yet on a line. It
works in chunks of CHUNK profiles (`invoicing_chunks`), each one transaction
(`invoice_profiles`): the chunk's profiles locked, their uninvoiced charges read in one
query, the documents made as drafts with their lines in a few statements, then issued:
numbered from their series' counter row, locked until the chunk commits. A chunk that
fails leaves nothing, not even a number; run again, the run does what is left and nothing
twice (a charge is billed by one line: a unique key).

Per profile: the credits whose charge was invoiced before go on one credit note per invoice
they correct, lowering its amount due; everything else goes on the invoice, credits netted
as negative lines. An invoice whose total would be below zero is a credit note instead,
against the profile's latest invoice.
"""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.audit import Actor, audit_event, audit_record_many
from portal.money import major_amount
from portal.regions import REGIONS

from ..models import (
    BillingProfile,
    Charge,
    CreditApplication,
    Invoice,
    InvoiceCounter,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Refund,
    RefundStatus,
    invoice_number,
)
from ..models.invoices import SERIES
from ..tax import REVERSE_CHARGE, TaxTreatment, line_tax, tax_treatment

logger = logging.getLogger(__name__)

CHUNK = 500  # billing profiles per chunk: one transaction, one task
NET_DAYS = 30  # check/wire invoices are due this many days after issue
TERMS = {
    PaymentMethod.CARD: "Due on receipt: charged to the card on file",
    PaymentMethod.CHECK_WIRE: f"Net {NET_DAYS}: pay by check or wire transfer",
}

_CHARGE_FIELDS = (
    "pk",
    "billing_profile_id",
    "subscription_uuid",
    "kind",
    "description",
    "quantity",
    "unit_amount",
    "amount",
    "period_start",
    "period_end",
)
_NAMES = {
    "app_name": F("plan__app__name"),
    "plan_name": F("plan__name"),
    "publisher": F("plan__app__publisher__legal_name"),
    "publisher_line1": F("plan__app__publisher__address_line1"),
    "publisher_line2": F("plan__app__publisher__address_line2"),
    "publisher_city": F("plan__app__publisher__city"),
    "publisher_state": F("plan__app__publisher__state"),
    "publisher_postal_code": F("plan__app__publisher__postal_code"),
    "publisher_country": F("plan__app__publisher__country"),
    # The invoice that billed the charge this one credits, if it has been billed, and the
    # tax it was billed with: its credit note gives back the tax charged, not today's.
    "corrected_id": F("credits__invoice_line__invoice_id"),
    "corrected_kind": F("credits__invoice_line__invoice__kind"),
    "corrected_rate": F("credits__invoice_line__tax_rate"),
    "corrected_label": F("credits__invoice_line__invoice__tax_label"),
    "corrected_note": F("credits__invoice_line__invoice__tax_note"),
}


@dataclass
class RunSummary:
    profiles: int = 0
    invoices: int = 0
    credit_notes: int = 0
    lines: int = 0
    totals: dict = field(default_factory=lambda: defaultdict(int))  # currency: net total

    def add(self, other: "RunSummary") -> None:
        self.profiles += other.profiles
        self.invoices += other.invoices
        self.credit_notes += other.credit_notes
        self.lines += other.lines
        for currency, total in other.totals.items():
            self.totals[currency] += total

    def __str__(self) -> str:
        totals = ", ".join(
            f"{currency} {major_amount(total, currency):,}"
            for currency, total in sorted(self.totals.items())
        )
        return (
            f"{_count(self.invoices, 'invoice')} and "
            f"{_count(self.credit_notes, 'credit note')} for "
            f"{_count(self.profiles, 'billing profile')}, {_count(self.lines, 'line')}"
            + (f" (net {totals})" if totals else "")
        )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def invoicing_period(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The month the run on `day` closes: the one before `day`'s month, [first, end)."""
    end = day.replace(day=1)
    return (end - datetime.timedelta(days=1)).replace(day=1), end


def _cutoff(period_end: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(period_end, datetime.time.min, tzinfo=datetime.UTC)


def uninvoiced(period_end: datetime.date, tenant=None):
    """The charges a run closing at `period_end` bills: made before it, on no line yet."""
    charges = Charge.objects.filter(invoice_line__isnull=True, created_at__lt=_cutoff(period_end))
    return charges.for_tenant(tenant) if tenant is not None else charges


def invoicing_chunks(period_end: datetime.date, tenant=None, size: int = CHUNK) -> list[list[int]]:
    """The ids of the profiles with charges to bill, in chunks of `size`, in id order."""
    ids = list(
        uninvoiced(period_end, tenant)
        .order_by("billing_profile_id")
        .values_list("billing_profile_id", flat=True)
        .distinct()
    )
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def invoicing_run(*, day: datetime.date, tenant=None, dry_run=False, progress=None) -> RunSummary:
    """Close the month before `day`, chunk after chunk in this process; `progress(done,
    total)` after each chunk, in profiles. What was (or, dry, would be) issued."""
    period = invoicing_period(day)
    chunks = invoicing_chunks(period[1], tenant)
    total, summary = sum(map(len, chunks)), RunSummary()
    for chunk in chunks:
        summary.add(invoice_profiles(chunk, day=day, dry_run=dry_run))
        if progress:
            progress(len(chunk), total)
    return summary


@dataclass
class _Document:
    profile: BillingProfile
    kind: str
    treatment: TaxTreatment  # the rate, label and note of its lines
    charges: list = field(default_factory=list)
    corrects_id: int | None = None

    @property
    def subtotal(self) -> int:
        return sum(row["amount"] for row in self.charges)

    @property
    def tax(self) -> int:
        return sum(line_tax(row["amount"], self.treatment.rate) for row in self.charges)


def _corrected_treatment(row: dict) -> TaxTreatment:
    """The tax a credit note gives back: the corrected line's rate, with its invoice's
    label and note (a reverse-charged invoice's credit note is reverse-charged too)."""
    return TaxTreatment(
        rate=row["corrected_rate"],
        label=row["corrected_label"],
        note=row["corrected_note"],
        reverse_charge=row["corrected_note"] == REVERSE_CHARGE,
    )


def invoice_profiles(profile_ids: list[int], *, day: datetime.date, dry_run=False) -> RunSummary:
    """Bill the uninvoiced charges of the profiles `profile_ids` for the month before `day`,
    in one transaction (none of it when dry). What was issued."""
    period = invoicing_period(day)
    with transaction.atomic():
        profiles = {
            profile.pk: profile
            for profile in BillingProfile.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(pk__in=profile_ids)
            .order_by("pk")
        }
        rows = list(
            uninvoiced(period[1])
            .filter(billing_profile_id__in=profiles)
            .order_by("billing_profile_id", "created_at", "pk")
            .values(*_CHARGE_FIELDS, **_NAMES)
        )
        documents = _documents(profiles, rows)
        summary = RunSummary(profiles=len({d.profile.pk for d in documents}))
        for document in documents:
            net = document.subtotal + document.tax
            summary.lines += len(document.charges)
            summary.totals[document.profile.currency] += net
            if document.kind == InvoiceKind.INVOICE:
                summary.invoices += 1
            else:
                summary.credit_notes += 1
        if not dry_run and documents:
            _issue(documents, period, day)
    return summary


def _documents(profiles: dict, rows: list[dict]) -> list[_Document]:
    """Each profile's invoice, and its credit notes against invoices already issued."""
    by_profile = defaultdict(list)
    for row in rows:
        by_profile[row["billing_profile_id"]].append(row)
    documents, negative = [], []
    for profile_id, charges in by_profile.items():
        profile = profiles[profile_id]
        treatment = tax_treatment(country=profile.country, tax_id=profile.tax_id)
        invoice = _Document(profile, InvoiceKind.INVOICE, treatment)
        notes = {}
        for row in charges:
            # A credit for a charge an invoice billed goes on a credit note against it, at the
            # tax it was billed with. One whose charge a credit note billed (a negative month
            # nets debits into a credit note) is simply more credit: it nets on the invoice.
            corrected = row["corrected_id"]
            if corrected is not None and row["corrected_kind"] == InvoiceKind.INVOICE:
                key = (corrected, row["corrected_rate"])
                if key not in notes:
                    notes[key] = _Document(
                        profile,
                        InvoiceKind.CREDIT_NOTE,
                        _corrected_treatment(row),
                        corrects_id=corrected,
                    )
                notes[key].charges.append(row)
            else:
                invoice.charges.append(row)
        if invoice.charges:
            documents.append(invoice)
            if invoice.subtotal + invoice.tax < 0:
                invoice.kind = InvoiceKind.CREDIT_NOTE
                negative.append(invoice)
        documents.extend(notes.values())
    if negative:  # against each profile's latest invoice
        latest = dict(
            Invoice.objects.filter(
                kind=InvoiceKind.INVOICE,
                status__in=(InvoiceStatus.OPEN, InvoiceStatus.PAID),
                billing_profile_id__in=[d.profile.pk for d in negative],
            )
            .order_by("billing_profile_id", "issue_date", "pk")
            .values_list("billing_profile_id", "pk")
        )  # the last of each profile's stands
        for document in negative:
            document.corrects_id = latest.get(document.profile.pk)
    return documents


def _issue(documents: list[_Document], period, day: datetime.date) -> None:
    """Write the documents as drafts with their lines, then issue them: numbered in order,
    the invoices they correct lowered by them."""
    now = timezone.now()
    seller = _seller()
    drafts = [_draft(document, period, day, seller, now) for document in documents]
    Invoice.objects.bulk_create(drafts, batch_size=500)
    lines = []
    for document, draft in zip(documents, drafts, strict=True):
        for position, row in enumerate(document.charges, start=1):
            lines.append(_line(draft, position, row, document.treatment.rate))
    InvoiceLine.objects.bulk_create(lines, batch_size=1000)
    for kind in (InvoiceKind.INVOICE, InvoiceKind.CREDIT_NOTE):
        of_kind = [draft for draft in drafts if draft.kind == kind]
        if not of_kind:
            continue
        first = _take_numbers(kind, day.year, len(of_kind))
        for sequence, draft in enumerate(of_kind, start=first):
            draft.number = invoice_number(kind, day.year, sequence)
            draft.status = InvoiceStatus.PAID if draft.amount_due == 0 else InvoiceStatus.OPEN
    Invoice.objects.bulk_update(drafts, ["number", "status"], batch_size=500)
    refunds = _apply_credit_notes([draft for draft in drafts if draft.corrects_id is not None])
    _carry_credit([draft for draft in drafts if draft.kind == InvoiceKind.INVOICE])
    charges = [
        draft.pk
        for draft in drafts
        if draft.kind == InvoiceKind.INVOICE
        and draft.payment_method == PaymentMethod.CARD
        and draft.status == InvoiceStatus.OPEN
    ]
    transaction.on_commit(
        lambda: _queue_after_issue([draft.pk for draft in drafts], charges, refunds)
    )
    audit_record_many(
        [
            audit_event(
                tenant_id=draft.tenant_id,
                actor=Actor.system("invoice run"),
                verb=f"{draft.kind}.issue",
                target_type="billing.invoice",
                target_id=str(draft.uuid),
                data={
                    "number": draft.number,
                    "total": {"amount": draft.total, "currency": draft.currency},
                },
                at=now,
            )
            for draft in drafts
        ]
    )


def _queue_after_issue(
    invoice_ids: list[int], card_invoice_ids: list[int], refund_ids: list[int]
) -> None:
    """After the chunk commits (never in the run): one rendering task per issued document,
    the first charge of each open card invoice, and each refund to a card. A broker that
    can't be reached leaves them for later: a download renders its PDF, the hourly card
    sweep sends the charges and the refunds."""
    from kombu.exceptions import OperationalError

    from ..tasks import queue_card_charge, queue_refund, render_invoice_pdf

    try:
        for invoice_id in invoice_ids:
            render_invoice_pdf.apply_async((invoice_id,), task_id=f"invoice-pdf-{invoice_id}")
        for invoice_id in card_invoice_ids:
            queue_card_charge(invoice_id, 1)
        for refund_id in refund_ids:
            queue_refund(refund_id)
    except OperationalError as failure:
        logger.warning("Invoice tasks not queued (%s): the sweeps will do them.", failure)


def _seller() -> dict:
    country = REGIONS[settings.SELLER_COUNTRY]
    return {
        "name": settings.SELLER_NAME,
        "address": settings.SELLER_ADDRESS.splitlines(),
        "country": country.code,
        "vat_id": settings.SELLER_VAT_ID,
        "remittance": dict(settings.REMITTANCE),
    }


def _bill_to(profile: BillingProfile) -> dict:
    return {
        "organization": profile.tenant.name,
        "profile": profile.name,
        "contact_name": profile.contact_name,
        "email": profile.email,
        "address": profile.address_lines,
        "country": profile.country,
        "tax_id": profile.tax_id,
        "tax_id_label": profile.region.tax_id_label,
    }


def _draft(document: _Document, period, day, seller, now) -> Invoice:
    profile, treatment = document.profile, document.treatment
    subtotal, tax = document.subtotal, document.tax
    card = profile.payment_method == PaymentMethod.CARD
    is_invoice = document.kind == InvoiceKind.INVOICE
    return Invoice(
        tenant_id=profile.tenant_id,
        billing_profile=profile,
        kind=document.kind,
        status=InvoiceStatus.DRAFT,
        corrects_id=document.corrects_id,
        issue_date=day,
        due_date=day if card or not is_invoice else day + datetime.timedelta(days=NET_DAYS),
        period_start=period[0],
        period_end=period[1],
        currency=profile.currency,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        amount_due=max(subtotal + tax, 0) if is_invoice else -(subtotal + tax),
        bill_to=_bill_to(profile),
        seller=seller,
        payment_method=profile.payment_method,
        payment_terms=TERMS[profile.payment_method] if is_invoice else "",
        po_number=profile.po_number,
        tax_label=treatment.label,
        tax_note=treatment.note,
        created_at=now,
    )


def _publisher_address(row: dict) -> str:
    locality = " ".join(
        part
        for part in (row["publisher_city"], row["publisher_state"], row["publisher_postal_code"])
        if part
    )
    country = row["publisher_country"]
    country = REGIONS[country].name if country in REGIONS else country
    lines = (row["publisher_line1"], row["publisher_line2"], locality, country)
    return "\n".join(line for line in lines if line)


def _line(draft: Invoice, position: int, row: dict, rate) -> InvoiceLine:
    return InvoiceLine(
        invoice=draft,
        charge_id=row["pk"],
        position=position,
        transaction_type=row["kind"],
        description=row["description"],
        subscription_uuid=row["subscription_uuid"],
        app_name=row["app_name"],
        plan_name=row["plan_name"],
        publisher_name=row["publisher"],
        publisher_address=_publisher_address(row),
        period_start=row["period_start"],
        period_end=row["period_end"],
        quantity=row["quantity"],
        unit_amount=row["unit_amount"],
        amount=row["amount"],
        tax_rate=rate,
        tax=line_tax(row["amount"], rate),
    )


def _take_numbers(kind: str, year: int, count: int) -> int:
    """The first of `count` consecutive numbers of the kind's series in `year`, from its
    counter row, locked until the caller's transaction ends (rolled back, it gives them
    back: no gap)."""
    series = SERIES[kind]
    InvoiceCounter.objects.bulk_create(
        [InvoiceCounter(series=series, year=year)], ignore_conflicts=True
    )
    counter = InvoiceCounter.objects.select_for_update().get(series=series, year=year)
    first = counter.last + 1
    counter.last += count
    counter.save(update_fields=["last"])
    return first


def _apply_credit_notes(notes: list[Invoice]) -> list[int]:
    """Each credit note lowers the amount due of the invoice it corrects, if it is open, as
    far as it goes (an invoice it brings to zero is paid). What is left of a note against an
    invoice its card paid is refunded to that card (the refunds' ids, to send after commit);
    any other is kept as credit for the profile's next invoices (`_carry_credit`)."""
    if not notes:
        return []
    corrected = {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_for_update().filter(
            pk__in={note.corrects_id for note in notes}
        )
    }
    applications = []
    for note in notes:
        invoice = corrected[note.corrects_id]
        if invoice.status != InvoiceStatus.OPEN:  # paid, void, uncollectible: nothing to lower
            continue
        applied = min(invoice.amount_due, note.amount_due)
        if not applied:
            continue
        invoice.amount_due -= applied
        if invoice.amount_due == 0:
            invoice.status = InvoiceStatus.PAID
        note.amount_due -= applied
        note.status = InvoiceStatus.PAID if note.amount_due == 0 else InvoiceStatus.OPEN
        applications.append(CreditApplication(credit_note=note, invoice=invoice, amount=applied))
    Invoice.objects.bulk_update(list(corrected.values()), ["amount_due", "status"])
    Invoice.objects.bulk_update(notes, ["amount_due", "status"])
    CreditApplication.objects.bulk_create(applications)
    return _card_refunds([note for note in notes if note.amount_due > 0], corrected)


def _card_refunds(notes: list[Invoice], corrected: dict[int, Invoice]) -> list[int]:
    """A pending refund for each note whose corrected invoice a card paid: of what is left
    of the note, as far as the card payment (less what was refunded of it) allows."""
    paid_by_card = [
        note
        for note in notes
        if corrected[note.corrects_id].payment_method == PaymentMethod.CARD
        and corrected[note.corrects_id].status == InvoiceStatus.PAID
    ]
    if not paid_by_card:
        return []
    given = Coalesce(Sum("refunds__amount", filter=~Q(refunds__status=RefundStatus.FAILED)), 0)
    payments = defaultdict(list)
    for payment in (
        Payment.objects.filter(
            invoice_id__in={note.corrects_id for note in paid_by_card},
            method=PaymentMethod.CARD,
        )
        .exclude(stripe_payment_intent_id="")
        .annotate(refundable=F("amount") - given)
        .order_by("-refundable", "pk")
    ):
        payments[payment.invoice_id].append(payment)
    refunds = []
    for note in paid_by_card:
        for payment in payments[note.corrects_id]:
            amount = min(note.amount_due, payment.refundable)
            if amount <= 0:
                continue
            payment.refundable -= amount
            refunds.append(
                Refund(
                    tenant_id=note.tenant_id,
                    credit_note=note,
                    invoice_id=note.corrects_id,
                    payment=payment,
                    amount=amount,
                    currency=note.currency,
                )
            )
            break
    Refund.objects.bulk_create(refunds)
    return [refund.pk for refund in refunds]


def _carry_credit(invoices: list[Invoice]) -> None:
    """Credit kept on a profile (its open credit notes not being refunded, oldest first)
    lowers its new invoices' amount due."""
    owing = {invoice.billing_profile_id: invoice for invoice in invoices if invoice.amount_due}
    if not owing:
        return
    notes = list(
        Invoice.objects.select_for_update()
        .filter(
            kind=InvoiceKind.CREDIT_NOTE,
            status=InvoiceStatus.OPEN,
            amount_due__gt=0,
            billing_profile_id__in=owing,
        )
        .exclude(refunds__status=RefundStatus.PENDING)
        .order_by("issue_date", "pk")
    )
    applications = []
    for note in notes:
        invoice = owing[note.billing_profile_id]
        applied = min(invoice.amount_due, note.amount_due)
        if not applied:
            continue
        invoice.amount_due -= applied
        if invoice.amount_due == 0:
            invoice.status = InvoiceStatus.PAID
        note.amount_due -= applied
        if note.amount_due == 0:
            note.status = InvoiceStatus.PAID
        applications.append(CreditApplication(credit_note=note, invoice=invoice, amount=applied))
    if applications:
        Invoice.objects.bulk_update(notes, ["amount_due", "status"])
        Invoice.objects.bulk_update(list(owing.values()), ["amount_due", "status"])
        CreditApplication.objects.bulk_create(applications)
