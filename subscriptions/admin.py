from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied

from billing.admin import ReadOnlyAdmin
from portal.audit import Actor, audit_record
from publishers.models import Plan

from .models import Proposal, ProposalLine, ProposalStatus, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    """Operators look; every change goes through the services (the portal, the API)."""

    list_display = ["name", "tenant", "plan", "quantity", "status", "term_end", "billing_profile"]
    list_filter = ["status", "bought_via"]
    search_fields = ["name", "uuid", "tenant__name", "plan__app__name"]
    list_select_related = ["tenant", "plan__app", "billing_profile"]


class ProposalLineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """Every line's plan is one the proposal's tenant may buy: visible to it (a private
        plan of another tenant is refused), not stop-sell, of a published app."""
        super().clean()
        tenant = self.instance.tenant if self.instance.tenant_id else None
        if tenant is None:
            return
        on_sale = set(Plan.objects.on_sale_to(tenant).values_list("pk", flat=True))
        kept = 0
        for form in self.forms:
            data = getattr(form, "cleaned_data", {})
            plan = data.get("plan")
            if plan is None or data.get("DELETE"):
                continue
            kept += 1
            if plan.pk not in on_sale:
                form.add_error("plan", f"{tenant.name} can't buy {plan}: it isn't on sale to it.")
        if not kept:
            raise forms.ValidationError("A proposal offers at least one plan.")


class ProposalLineInline(admin.TabularInline):
    model = ProposalLine
    formset = ProposalLineFormSet
    fields = ["plan", "quantity", "unit_amount"]
    autocomplete_fields = ["plan"]
    extra = 1
    min_num = 1


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    """Operator staff make a proposal for a tenant; its admins accept or decline it in the
    portal. Once answered it can no longer change."""

    list_display = ["title", "tenant", "status", "expires_on", "created_at"]
    list_filter = ["status"]
    search_fields = ["title", "tenant__name", "tenant__slug"]
    fields = ["tenant", "title", "message", "expires_on", "status", "currency"]
    readonly_fields = ["status", "currency"]
    autocomplete_fields = ["tenant"]
    inlines = [ProposalLineInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "tenant"]  # the lines are priced in its currency
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.status == ProposalStatus.OPEN)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.status == ProposalStatus.OPEN)

    def save_model(self, request, obj, form, change):
        """The admin's transaction holds the row locked through the lines' save; an answer
        the tenant gave meanwhile is never written over (status and answer are not saved
        here)."""
        if not change:
            obj.created_by = request.user
            obj.save()
            return
        saved = Proposal.objects.select_for_update().get(pk=obj.pk)
        if saved.status != ProposalStatus.OPEN:
            raise PermissionDenied("The tenant answered this proposal meanwhile: it can't change.")
        obj.revision = saved.revision + 1  # an Accept of the page shown before is refused
        obj.save(update_fields=["title", "message", "expires_on", "revision"])

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        proposal = form.instance
        audit_record(
            tenant=proposal.tenant,
            actor=Actor.from_request(request),
            verb="proposal.change" if change else "proposal.create",
            target=proposal,
            data={"name": proposal.title, "expires": proposal.expires_on.isoformat()},
        )
