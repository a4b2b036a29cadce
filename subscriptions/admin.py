from django.contrib import admin
from django.db import transaction

from billing.admin import ReadOnlyAdmin
from portal.audit import Actor, audit_record

from .models import Proposal, ProposalLine, ProposalStatus, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    """Operators look; every change goes through the services (the portal, the API)."""

    list_display = ["name", "tenant", "plan", "quantity", "status", "term_end", "billing_profile"]
    list_filter = ["status", "bought_via"]
    search_fields = ["name", "uuid", "tenant__name", "plan__app__name"]
    list_select_related = ["tenant", "plan__app", "billing_profile"]


class ProposalLineInline(admin.TabularInline):
    model = ProposalLine
    fields = ["plan", "quantity", "unit_amount"]
    autocomplete_fields = ["plan"]
    extra = 1


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

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

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
