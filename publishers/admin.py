import json

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from portal.audit import Actor, audit_record

from . import services, webhooks
from .models import App, Plan, Price, Publisher, PublisherSecret, WebhookAttempt, WebhookEvent

SECRET_WORDS = ("secret", "password", "token")


def _plain(value):
    """A form value as JSON the audit log can keep: objects by name, never a repr."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "all") and callable(value.all):
        value = list(value.all())
    if isinstance(value, list | tuple | set):
        return sorted(str(_plain(v)) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def form_changes(form) -> dict:
    """{field: [old, new]} of what the admin form changed; secrets never."""
    changes = {}
    for name in form.changed_data:
        if any(word in name for word in SECRET_WORDS):
            continue
        old, new = _plain(form.initial.get(name)), _plain(form.cleaned_data.get(name))
        if old != new:
            changes[name] = [old, new]
    return changes


def audit_catalog(request, obj, action: str, changes: dict | None = None) -> None:
    """An operator record of a catalog edit made in the Django admin."""
    name = f"{obj.plan} ({obj.currency})" if isinstance(obj, Price) else str(obj)
    data = {"name": name}
    if changes:
        data["changes"] = changes
    audit_record(
        tenant=None,
        actor=Actor.from_request(request),
        verb=f"{obj._meta.model_name}.{action}",
        target=obj,
        data=data,
    )


class AuditedAdmin(admin.ModelAdmin):
    """Every save and delete in this admin, and in its inlines, leaves an operator record,
    in the admin's own transaction."""

    def save_model(self, request, obj, form, change):
        form.audit_changes = form_changes(form) if change else None
        super().save_model(request, obj, form, change)
        if not change:
            audit_catalog(request, obj, "create")

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields are saved here; the record names them with the rest.
        super().save_related(request, form, formsets, change)
        if getattr(form, "audit_changes", None):
            audit_catalog(request, form.instance, "change", form.audit_changes)

    def save_formset(self, request, form, formset, change):
        created, changed, deleted = [], [], []
        for inline in formset.forms:
            if not inline.has_changed() and not formset._should_delete_form(inline):
                continue
            if formset._should_delete_form(inline):
                if inline.instance.pk:
                    deleted.append(inline.instance)
            elif inline.instance.pk:
                changed.append((inline.instance, form_changes(inline)))
            else:
                created.append(inline.instance)
        for obj in deleted:
            audit_catalog(request, obj, "delete")
        super().save_formset(request, form, formset, change)
        for obj in created:
            audit_catalog(request, obj, "create")
        for obj, changes in changed:
            if changes:
                audit_catalog(request, obj, "change", changes)

    def delete_model(self, request, obj):
        audit_catalog(request, obj, "delete")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


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


class PublisherSecretInline(admin.TabularInline):
    """The publisher's API client secrets: made by the action "Create an API client secret"
    (shown once), revoked by the one below; never edited."""

    model = PublisherSecret
    extra = 0
    fields = ["uuid", "hint", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Publisher)
class PublisherAdmin(AuditedAdmin):
    list_display = ["name", "slug", "country", "auto_provisioning", "is_active"]
    list_filter = ["is_active", "auto_provisioning", "country"]
    search_fields = ["name", "slug", "legal_name", "support_email"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["uuid", "client_id", "webhook_secret", "created_at"]
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
                    "client_id",
                    "webhook_url",
                    "webhook_secret",
                    "auto_provisioning",
                ]
            },
        ),
    ]
    inlines = [PublisherSecretInline, AppInline]
    actions = ["rotate_webhook_secret", "create_api_secret", "revoke_api_secrets"]

    # Making and revoking a publisher's API credentials takes the right to change publishers.
    @admin.action(description="Create an API client secret (shown once)", permissions=["change"])
    def create_api_secret(self, request, queryset):
        """A page of its own shows the new secrets once, never stored anywhere (a message
        would put them in the messages cookie), and not cached."""
        made = []
        for publisher in queryset:
            secret, plaintext = services.publisher_secret_create(
                publisher=publisher, actor=Actor.from_request(request)
            )
            made.append({"publisher": publisher, "secret": secret, "plaintext": plaintext})
        context = {
            **self.admin_site.each_context(request),
            "made": made,
            "title": "API client secrets",
        }
        response = TemplateResponse(request, "admin/publishers/secrets_created.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke every API client secret", permissions=["change"])
    def revoke_api_secrets(self, request, queryset):
        revoked = 0
        for secret in PublisherSecret.objects.usable().filter(publisher__in=queryset):
            services.publisher_secret_revoke(secret=secret, actor=Actor.from_request(request))
            revoked += 1
        messages.success(request, f"{revoked} API client secret(s) revoked.")

    @admin.action(description="Rotate the webhook signing secret")
    def rotate_webhook_secret(self, request, queryset):
        for publisher in queryset:
            services.publisher_rotate_webhook_secret(
                publisher=publisher, actor=Actor.from_request(request)
            )
        messages.success(
            request,
            f"New webhook secrets for {queryset.count()} publisher(s): webhooks are signed by "
            "the old secret too for a day, while they deploy the new one.",
        )


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
class AppAdmin(AuditedAdmin):
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
class PlanAdmin(AuditedAdmin):
    list_display = ["name", "app", "plan_id", "term", "is_private", "is_stop_sell"]
    list_filter = ["term", "is_private", "is_stop_sell", "app__pricing_model"]
    search_fields = ["name", "plan_id", "app__name", "app__publisher__name"]
    list_select_related = ["app"]
    autocomplete_fields = ["app", "allowed_tenants"]
    readonly_fields = ["uuid", "pricing_model", "created_at"]
    inlines = [PriceInline]


@admin.register(PublisherSecret)
class PublisherSecretAdmin(admin.ModelAdmin):
    """Publishers' API client secrets, to see and revoke (made from a publisher's page)."""

    list_display = ["publisher", "hint", "state", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["publisher"]
    readonly_fields = [
        "uuid",
        "publisher",
        "hint",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="state")
    def state(self, secret):
        return secret.state()

    def has_revoke_permission(self, request):
        return request.user.has_perm("publishers.change_publisher")

    @admin.action(
        description="Revoke the selected secrets (their tokens stop at once)",
        permissions=["revoke"],
    )
    def revoke(self, request, queryset):
        for secret in queryset:
            services.publisher_secret_revoke(secret=secret, actor=Actor.from_request(request))
        messages.success(request, f"{queryset.count()} secret(s) revoked.")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "at", "url", "status_code", "latency_ms", "response_excerpt", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """The webhook outbox, read-only: each event with its attempts; Replay sends a settled one
    again with the same webhook-id."""

    list_display = ["uuid", "publisher", "action", "status", "attempt_count", "created_at"]
    list_filter = ["status", "action", "publisher"]
    search_fields = ["uuid"]
    readonly_fields = [
        "uuid",
        "publisher",
        "subscription",
        "action",
        "status",
        "attempt_count",
        "created_at",
        "next_attempt_at",
        "give_up_at",
        "first_success_at",
        "settled_at",
        "shown_body",
    ]
    fields = readonly_fields
    inlines = [WebhookAttemptInline]
    actions = ["replay"]
    list_select_related = ["publisher"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="body")
    def shown_body(self, event):
        """The body as sent, but its purchaseToken: a live landing-page token, not for
        the eyes of whoever may read the outbox."""
        try:
            body = json.loads(event.body)
        except ValueError:
            return event.body
        if isinstance(body, dict) and body.get("purchaseToken"):
            body["purchaseToken"] = "(hidden)"
        return json.dumps(body)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_replay_permission(self, request):
        return request.user.has_perm("publishers.change_publisher")

    @admin.action(description="Replay the selected webhooks", permissions=["replay"])
    def replay(self, request, queryset):
        sent = 0
        for event in queryset.order_by("pk"):
            try:
                webhooks.webhook_replay(event=event, actor=Actor.from_request(request))
            except ValueError as refused:
                messages.warning(request, f"{event.action} {event.uuid}: {refused}")
                continue
            sent += 1
        messages.success(request, f"{sent} webhook(s) sent again.")
