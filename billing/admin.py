from django.contrib import admin

from .models import BillingProfile, BillingProfileRole, StripeEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Operators look; customers change their billing through the portal, where every change
    is checked and audited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RoleInline(admin.TabularInline):
    model = BillingProfileRole
    fields = ["user", "role", "granted_at"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
