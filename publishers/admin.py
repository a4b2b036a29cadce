from django.contrib import admin, messages

from portal.audit import Actor

from . import services
from .models import App, Plan, Price, Publisher


class AppInline(admin.TabularInline):
    """The publisher's apps, for reference; an app is added and edited on its own page."""

    model = App
    extra = 0
    fields = ["name", "offer_id", "pricing_model", "category", "is_published"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Publisher)
class PublisherAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "auto_provisioning", "is_active"]
    list_filter = ["is_active", "auto_provisioning", "country"]
    search_fields = ["name", "slug", "legal_name", "support_email"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["uuid", "webhook_secret", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active", "uuid", "created_at"]}),
        (
            "Legal name and address (printed on invoices)",
            {
                "fields": [
                    "legal_name",
                    "address_line1",
                    "address_line2",
                    "city",
                    "state",
                    "postal_code",
                    "country",
                ]
            },
        ),
        ("Support and contacts", {"fields": ["support_url", "support_email", "contact_emails"]}),
        (
            "Integration",
            {
                "fields": [
                    "landing_page_url",
                    "webhook_url",
                    "webhook_secret",
                    "auto_provisioning",
                ]
            },
        ),
    ]
    inlines = [AppInline]
    actions = ["rotate_webhook_secret"]

    @admin.action(description="Rotate the webhook signing secret")
    def rotate_webhook_secret(self, request, queryset):
        for publisher in queryset:
            services.publisher_rotate_webhook_secret(
                publisher=publisher, actor=Actor.from_request(request)
            )
        messages.success(request, f"New webhook secrets for {queryset.count()} publisher(s).")


class PlanInline(admin.StackedInline):
    model = Plan
    extra = 0
    fields = [
        ("plan_id", "name", "term"),
        "description",
        ("min_quantity", "max_quantity"),
        ("is_private", "is_stop_sell"),
        "allowed_tenants",
    ]
    autocomplete_fields = ["allowed_tenants"]
    show_change_link = True


@admin.register(App)
class AppAdmin(admin.ModelAdmin):
    list_display = ["name", "publisher", "offer_id", "pricing_model", "category", "is_published"]
    list_filter = ["is_published", "pricing_model", "category", "publisher"]
    search_fields = ["name", "offer_id", "publisher__name"]
    list_select_related = ["publisher"]
    autocomplete_fields = ["publisher"]
    readonly_fields = ["uuid", "created_at"]
    inlines = [PlanInline]


class PriceInline(admin.TabularInline):
    model = Price
    extra = 1


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "app", "plan_id", "term", "is_private", "is_stop_sell"]
    list_filter = ["term", "is_private", "is_stop_sell", "app__pricing_model"]
    search_fields = ["name", "plan_id", "app__name", "app__publisher__name"]
    list_select_related = ["app"]
    autocomplete_fields = ["app", "allowed_tenants"]
    readonly_fields = ["uuid", "pricing_model", "created_at"]
    inlines = [PriceInline]
