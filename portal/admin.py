from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from . import services
from .audit import Actor, action_words, event_details, event_kind, event_target
from .models import AuditEvent, Membership, PartnerRelationship, Role, Tenant, User


class MembershipInline(admin.TabularInline):
    """Shown on the tenant for reference; changes go through the membership page."""

    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["full_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]}),
    ]
    filter_horizontal = ["groups"]

    def has_delete_permission(self, request, obj=None):
        # People are deactivated (untick "active"), never deleted: the audit log names them,
        # and deleting one would drop their memberships around the last-admin rule.
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "created_at"]
    list_filter = ["country"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            if form.changed_data:
                services.tenant_update(tenant=obj, changed=form.changed_data, actor=actor)
        else:
            created = services.tenant_create(
                name=obj.name, country=obj.country, slug=obj.slug, actor=actor
            )
            obj.pk, obj.uuid = created.pk, created.uuid


class MembershipAdminForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "tenant", "role"]

    def clean_role(self):
        role = self.cleaned_data["role"]
        saved = self.instance
        if saved.pk and role != Role.ADMIN and saved.is_sole_admin():
            raise forms.ValidationError(services.LastAdminError().message)
        return role


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Operators change memberships through the same services as tenant admins, audited."""

    form = MembershipAdminForm
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__email", "tenant__name", "tenant__slug"]
    autocomplete_fields = ["user", "tenant"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "tenant"] if obj else []

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            services.member_change_role(membership=obj, role=obj.role, actor=actor)
        else:
            created = services.member_add(
                tenant=obj.tenant, email=obj.user.email, role=obj.role, actor=actor
            )
            obj.pk, obj.uuid = created.pk, created.uuid

    def delete_model(self, request, obj):
        services.member_remove(membership=obj, actor=Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            self.delete_model(request, membership)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        protected += [f"{m} (the tenant's last admin)" for m in objs if m.is_sole_admin()]
        return deleted, counts, perms_needed, protected


@admin.register(PartnerRelationship)
class PartnerRelationshipAdmin(admin.ModelAdmin):
    """Granting and ending delegated access goes through the audited services."""

    list_display = ["partner", "customer", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["partner__name", "customer__name"]
    autocomplete_fields = ["partner", "customer"]
    actions = ["end_relationships"]

    def get_readonly_fields(self, request, obj=None):
        return ["partner", "customer"] if obj else []

    def get_exclude(self, request, obj=None):
        return [] if obj else ["is_active"]  # a new relationship starts active

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if obj.is_active:
            link = services.partner_relationship_create(
                partner=obj.partner, customer=obj.customer, actor=actor
            )
            obj.pk = link.pk
        elif change:
            services.partner_relationship_end(link=obj, actor=actor)

    def has_delete_permission(self, request, obj=None):
        return False  # end it instead: the audit log refers to it

    @admin.action(description="End the selected partner relationships")
    def end_relationships(self, request, queryset):
        for link in queryset:
            services.partner_relationship_end(link=link, actor=Actor.from_request(request))


class AuditActionFilter(admin.SimpleListFilter):
    title = "action"
    parameter_name = "verb"

    def lookups(self, request, model_admin):
        verbs = AuditEvent.objects.order_by("verb").values_list("verb", flat=True).distinct()
        return sorted(((v, action_words(v)) for v in verbs), key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        return queryset.filter(verb=self.value()) if self.value() else queryset


class AuditScopeFilter(admin.SimpleListFilter):
    title = "tenant or operator"
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [("operator", "Operator"), ("tenant", "Tenants")]

    def queryset(self, request, queryset):
        if self.value() == "operator":
            return queryset.operator()
        if self.value() == "tenant":
            return queryset.filter(tenant__isnull=False)
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only, here too. Operator records have no tenant."""

    list_display = ["created_at", "actor_label", "action", "scope", "target", "details"]
    list_filter = [AuditScopeFilter, AuditActionFilter, "actor_type", "tenant"]
    search_fields = ["actor_label", "verb", "target_id", "tenant__name"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant", "actor_partner"]
    readonly_fields = ["action", "scope", "target", "details"]

    @admin.display(description="Action", ordering="verb")
    def action(self, event):
        return action_words(event.verb)

    @admin.display(description="Tenant", ordering="tenant__name")
    def scope(self, event):
        return event.tenant.name if event.tenant_id else "Operator"

    @admin.display(description="Target")
    def target(self, event):
        return " · ".join(t for t in (event_target(event), event_kind(event)) if t) or "—"

    @admin.display(description="Details")
    def details(self, event):
        return "; ".join(str(d) for d in event_details(event)) or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
