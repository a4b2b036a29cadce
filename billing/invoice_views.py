"""Billing > Bills & payments: the invoices and credit notes of the profiles a member may
see, each with its lines, as a page and as CSV."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import Case, Count, F, Sum, When
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_http_methods

from portal.audit import Actor
from portal.exports import csv_response
from portal.pagination import page_of_ids

from . import pdf, permissions, services, stripe_gateway
from .exports import invoice_csv_rows
from .forms import InvoiceExportForm, InvoiceFilterForm, PayNowForm
from .models import BillingProfile, ExportStatus, Invoice, InvoiceExport, InvoiceKind
from .services import invoice_export_request
from .services.card_charges import invoice_pay_now, invoice_pay_now_outcome, pay_now_refusal

PAGE_SIZE = 25


def access_invoice(request, invoice_uuid) -> Invoice:
    """An issued invoice or credit note of a profile of the tenant the caller may see (else
    404)."""
    invoices = Invoice.objects.visible_to(request.membership).select_related(
        "tenant", "billing_profile", "corrects"
    )
    return get_object_or_404(invoices, uuid=invoice_uuid)


def _profiles(request):
    if not permissions.can_view_billing_profiles(request.membership):
        raise Http404("No invoices to show.")
    return BillingProfile.objects.visible_to(request.membership).order_by("name")


def access_export(request, export_uuid) -> InvoiceExport:
    """An export of a profile of the tenant the caller may see (else 404)."""
    exports = InvoiceExport.objects.visible_to(request.membership).select_related("billing_profile")
    return get_object_or_404(exports, uuid=export_uuid)


def _filtered(request):
    profiles = _profiles(request)
    form = InvoiceFilterForm(request.GET, profiles=profiles.values_list("uuid", "name"))
    invoices = Invoice.objects.visible_to(request.membership)
    if not form.is_valid():
        return form, invoices.none()
    data = form.cleaned_data
    if data["date_from"]:
        invoices = invoices.filter(issue_date__gte=data["date_from"])
    if data["date_to"]:
        invoices = invoices.filter(issue_date__lte=data["date_to"])
    if data["status"]:
        invoices = invoices.filter(status=data["status"])
    if data["billing_profile"]:
        invoices = invoices.filter(billing_profile__uuid=data["billing_profile"])
    return form, invoices.order_by("-issue_date", "-pk")


def _list_context(request, export_form=None) -> dict:
    form, invoices = _filtered(request)
    page = page_of_ids(invoices, request.GET.get("page"), PAGE_SIZE)
    page.object_list = list(
        Invoice.objects.filter(pk__in=page.object_list)
        .select_related("billing_profile")
        .order_by("-issue_date", "-pk")
    )
    # What is due: the invoices' amounts due, less the credit notes' credit not yet given.
    owed = Case(When(kind=InvoiceKind.CREDIT_NOTE, then=-F("amount_due")), default=F("amount_due"))
    totals = (
        invoices.order_by("currency")
        .values("currency")
        .annotate(total=Sum("total"), due=Sum(owed), count=Count("pk"))
    )
    query = request.GET.copy()
    query.pop("page", None)
    profiles = _profiles(request).values_list("uuid", "name")
    return {
        "form": form,
        "page": page,
        "totals": totals,
        "query": query.urlencode(),
        "partial": bool(request.htmx and request.htmx.target == "results"),
        "filtered": any(form.data.get(name) for name in form.fields),
        "export_form": export_form or InvoiceExportForm(profiles=profiles),
    }


@require_GET
def invoice_list(request):
    context = _list_context(request)
    template = "billing/invoice_list.html"
    return render(request, f"{template}#results" if context["partial"] else template, context)


@require_GET
def invoice_detail(request, invoice_uuid):
    invoice = access_invoice(request, invoice_uuid)
    may_pay = permissions.can_pay_invoices(request.membership, invoice.billing_profile)
    context = {
        "invoice": invoice,
        "pay_now": may_pay and not pay_now_refusal(invoice),
        "lines": invoice.lines.all(),
        "payments": invoice.payments.order_by("received_on", "pk"),
        "card_attempts": invoice.card_attempts.order_by("number"),
        # Credit: on an invoice, what credit notes took off it and refunded of what it was
        # paid; on a credit note, where its credit went.
        "credits": (
            invoice.applications.select_related("invoice")
            if invoice.is_credit_note
            else invoice.credits_applied.select_related("credit_note")
        ),
        "refunds": (invoice.refunds if invoice.is_credit_note else invoice.refunds_given)
        .select_related("credit_note", "invoice")
        .order_by("created_at", "pk"),
        "credit_notes": Invoice.objects.visible_to(request.membership).filter(corrects=invoice),
    }
    return render(request, "billing/invoice_detail.html", context)


@require_GET
def invoice_pdf(request, invoice_uuid):
    """The stored PDF (rendered now if it is missing), as a download."""
    invoice = access_invoice(request, invoice_uuid)
    response = HttpResponse(pdf.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


@require_GET
def invoice_csv(request, invoice_uuid):
    invoice = access_invoice(request, invoice_uuid)
    return csv_response(invoice_csv_rows([invoice]), f"{invoice.number}.csv")


@require_GET
def invoice_list_csv(request):
    """The lines of every invoice the filters select, as one CSV."""
    _form, invoices = _filtered(request)
    return csv_response(invoice_csv_rows(invoices), "invoices.csv")


@require_http_methods(["POST"])
def invoice_export_create(request):
    """Ask for a zip of a profile's invoices of a period; its page shows it being built."""
    profiles = _profiles(request)
    form = InvoiceExportForm(request.POST, profiles=profiles.values_list("uuid", "name"))
    if not form.is_valid():  # the list again, the form with its errors: nothing asked for
        context = _list_context(request, export_form=form)
        return render(request, "billing/invoice_list.html", context, status=400)
    data = form.cleaned_data
    profile = profiles.get(uuid=data["billing_profile"])
    export = invoice_export_request(
        profile=profile, date_from=data["date_from"], date_to=data["date_to"], user=request.user
    )
    return redirect("bills:export", tenant_slug=request.tenant.slug, export_uuid=export.uuid)


@require_GET
def invoice_export(request, export_uuid):
    """An export's progress; once built, its download link. htmx asks again every second
    while it is being built."""
    export = access_export(request, export_uuid)
    template = "billing/invoice_export.html"
    if request.htmx and request.htmx.target == "progress":
        template += "#progress"
    return render(request, template, {"export": export})


@require_GET
def invoice_export_download(request, export_uuid):
    export = access_export(request, export_uuid)
    if export.status != ExportStatus.DONE or not default_storage.exists(export.file):
        raise Http404("This export isn't ready.")
    return FileResponse(
        default_storage.open(export.file, "rb"), as_attachment=True, filename=export.filename
    )


@require_http_methods(["GET", "POST"])
@csp_override(settings.STRIPE_CSP)
def invoice_pay(request, invoice_uuid):
    """Pay now: what is due on an open card invoice, charged to the card on file or another
    card, confirmed in the page with Stripe.js where the bank asks for 3-D Secure. The
    outcome is read from Stripe, never from the browser."""
    invoice = access_invoice(request, invoice_uuid)
    profile = invoice.billing_profile
    if not permissions.can_pay_invoices(request.membership, profile):
        raise PermissionDenied(permissions.ROLE_REFUSAL)
    error, authenticate = "", None
    refusal = pay_now_refusal(invoice)
    if request.method == "POST" and refusal:  # paid meanwhile (a second click, say)
        messages.info(request, refusal)
        return redirect("bills:detail", tenant_slug=request.tenant.slug, invoice_uuid=invoice.uuid)
    if request.method == "POST":
        form = PayNowForm(request.POST)
        if not form.is_valid():
            error = " ".join(form.non_field_errors()) or "The payment form was incomplete."
        else:
            try:
                outcome = _pay(request, invoice, form.cleaned_data)
            except (ValidationError, services.CardSetupError) as refused:
                error = " ".join(getattr(refused, "messages", [str(refused)]))
            except stripe_gateway.StripeFailure as failure:
                error = str(failure)
            else:
                if outcome.succeeded:
                    amount = f"{invoice.number} is paid. Thank you."
                    messages.success(request, amount)
                    return redirect(
                        "bills:detail", tenant_slug=request.tenant.slug, invoice_uuid=invoice.uuid
                    )
                if outcome.status == "requires_action" and outcome.client_secret:
                    authenticate = outcome.client_secret
                elif outcome.pending:
                    error = "The card processor is still deciding; this invoice's page will say."
                else:
                    error = outcome.error or "The card was declined."
    setup, stripe_down = None, ""
    if not pay_now_refusal(invoice) and authenticate is None:
        try:
            setup = services.billing_profile_card_setup(
                profile=profile, actor=Actor.from_request(request)
            )
        except stripe_gateway.StripeFailure as failure:
            stripe_down = str(failure)
    context = {
        "invoice": invoice,
        "profile": profile,
        "refusal": pay_now_refusal(invoice),
        "error": error,
        "authenticate": authenticate,
        "authenticate_id": authenticate.split("_secret_")[0] if authenticate else "",
        "setup": setup,
        "stripe_down": stripe_down,
        "key": uuid.uuid4(),  # a new one each time the page is shown
        "may_save_card": permissions.can_manage_payment_method(request.membership, profile),
        "stripe_js_url": settings.STRIPE_JS_URL,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    }
    status = 422 if error and request.method == "POST" else 503 if stripe_down else 200
    return render(request, "billing/invoice_pay.html", context, status=status)


def _pay(request, invoice, data):
    """Charge the invoice as the form asks; Stripe's outcome."""
    if data["payment_intent"]:  # back from 3-D Secure
        return invoice_pay_now_outcome(invoice=invoice, payment_intent_id=data["payment_intent"])
    profile = invoice.billing_profile
    if data["source"] == "saved":
        if not profile.has_card:
            raise ValidationError("There is no card on file: pay with another card.")
        payment_method_id = profile.stripe_payment_method_id
    else:
        payment_method_id = services.billing_profile_pay_now_card(
            profile=profile,
            setup_intent_id=data["setup_intent"],
            save=data["save_card"]
            and permissions.can_manage_payment_method(request.membership, profile),
            actor=Actor.from_request(request),
        )
    return invoice_pay_now(invoice=invoice, payment_method_id=payment_method_id, key=data["key"])
