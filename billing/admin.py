from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from portal.audit import Actor

from .forms import PaymentRecordForm
from .models import BillingProfile, BillingProfileRole, Invoice, InvoiceLine, Payment, StripeEvent
from .services import invoice_void


class ReadOnlyAdmin(admin.ModelAdmin):
    """Operators look; customers change their billing through the portal, where every change
    is checked and audited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RoleInline(ReadOnlyInline):
    model = BillingProfileRole
    fields = ["user", "role", "granted_at"]


@admin.register(BillingProfile)
class BillingProfileAdmin(ReadOnlyAdmin):
    list_display = ["name", "tenant", "currency", "payment_method", "card_last4", "is_default"]
    list_filter = ["payment_method", "currency"]
    search_fields = ["name", "tenant__name", "tenant__slug", "email", "stripe_customer_id"]
    list_select_related = ["tenant"]
    inlines = [RoleInline]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "outcome", "received_at"]
    list_filter = ["type"]
    search_fields = ["event_id"]


class LineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ["position", "transaction_type", "app_name", "plan_name", "quantity", "amount", "tax"]


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["received_on", "method", "amount", "currency", "reference", "recorded_by"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "tenant", "billing_profile", "status", "issue_date", "total"]
    list_filter = ["kind", "status", "currency"]
    search_fields = ["number", "tenant__slug", "billing_profile__name"]
    list_select_related = ["tenant", "billing_profile"]
    inlines = [LineInline, PaymentInline]
    actions = ["void"]

    def has_void_permission(self, request):
        return request.user.has_perm("billing.change_invoice")

    @admin.action(description="Void (open invoices nothing was paid on)", permissions=["void"])
    def void(self, request, queryset):
        for invoice in queryset:
            try:
                invoice_void(invoice=invoice, actor=Actor.from_request(request))
            except ValidationError as refused:
                messages.error(request, " ".join(refused.messages))
            else:
                messages.success(request, f"{invoice} is void; its number stays.")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    """Payments are read here; a check or wire received is recorded through the same form
    and service as `manage.py record_payment` (Add payment), never edited."""

    list_display = ["invoice", "tenant", "received_on", "method", "amount", "currency", "reference"]
    list_filter = ["method", "currency"]
    search_fields = ["invoice__number", "reference", "tenant__slug"]
    list_select_related = ["invoice", "tenant"]

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("billing.add_payment")

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PaymentRecordForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                payment = form.record(Actor.from_request(request))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Payment recorded on {payment.invoice}.")
                return redirect("admin:billing_payment_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.opts,
            "title": "Record a check or wire payment",
        }
        return TemplateResponse(request, "admin/billing/payment/record.html", context)
