from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from . import permissions, services
from .audit import Actor, audit_csv_rows
from .exports import csv_response
from .forms import AuditFilterForm, MemberAddForm, MemberRoleForm
from .models import AuditEvent, Invitation, Membership, Tenant
from .navigation import landing_for


def require(permission, request, obj=None):
    if not permission(request.membership, obj):
        raise PermissionDenied


def access_membership(request, member_uuid, *, write=False) -> Membership:
    membership = get_object_or_404(
        Membership.objects.for_tenant(request.tenant).select_related("user", "tenant"),
        uuid=member_uuid,
    )
    if write and not permissions.can_manage_members(request.membership, membership):
        raise PermissionDenied
    return membership


def access_invitation(request, invitation_uuid) -> Invitation:
    """A tenant's invitation, for its admins (resend, cancel)."""
    require(permissions.can_manage_members, request)
    return get_object_or_404(
        Invitation.objects.for_tenant(request.tenant).pending().select_related("tenant"),
        uuid=invitation_uuid,
    )


def own_invitation(request, invitation_uuid) -> Invitation:
    """An open invitation to the signed-in person's e-mail; anyone else's is a 404."""
    return get_object_or_404(
        Invitation.objects.open().addressed_to(request.user).select_related("tenant"),
        uuid=invitation_uuid,
    )


def pending_invitations(user):
    return list(Invitation.objects.open().addressed_to(user).select_related("tenant", "invited_by"))


@login_required
@require_GET
def start(request):
    tenants = list(Tenant.objects.visible_to(request.user))
    invitations = pending_invitations(request.user)
    if len(tenants) == 1 and not invitations:
        (tenant,) = tenants
        membership = Membership.objects.filter(tenant=tenant, user=request.user).first()
        landing = landing_for(membership) if membership is not None else None
        return redirect(landing or "portal:home", tenant_slug=tenant.slug)
    context = {"tenants": tenants, "invitations": invitations}
    return render(request, "portal/tenant_picker.html", context)


@require_GET
@vary_on_headers("HX-Request")
def switcher(request):
    """The tenant switcher's menu: the other tenants and the open invitations. Every page
    carries only the switcher's button; the menu loads when first opened, so pages don't pay
    its two queries. Without htmx, the tenant picker lists the same."""
    if not request.htmx:
        return redirect("start")
    context = {
        "tenants": Tenant.objects.visible_to(request.user).exclude(pk=request.tenant.pk),
        "invitations": pending_invitations(request.user),
    }
    return render(request, "portal/switcher.html", context)


@login_required
@require_POST
def invitation_accept(request, invitation_uuid):
    invitation = own_invitation(request, invitation_uuid)
    try:
        services.invitation_accept(
            invitation=invitation, user=request.user, actor=Actor.from_request(request)
        )
    except ValidationError as error:
        messages.error(request, error.message)
        return redirect("start")
    messages.success(request, f"You joined {invitation.tenant.name}.")
    return redirect("portal:home", tenant_slug=invitation.tenant.slug)


@login_required
@require_POST
def invitation_decline(request, invitation_uuid):
    invitation = own_invitation(request, invitation_uuid)
    try:
        services.invitation_decline(
            invitation=invitation, user=request.user, actor=Actor.from_request(request)
        )
    except ValidationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"You declined the invitation to {invitation.tenant.name}.")
    return redirect("start")


@require_GET
def home(request):
    tenant = request.tenant
    context = {"member_count": Membership.objects.for_tenant(tenant).count()}
    return render(request, "portal/tenant_home.html", context)


def _members_page(request, form, status=200):
    members = Membership.objects.for_tenant(request.tenant).with_admin_count()
    invitations = Invitation.objects.for_tenant(request.tenant).pending()
    context = {"members": members.select_related("user"), "invitations": invitations, "form": form}
    template = "portal/member_list.html"
    if request.htmx and request.method == "POST":
        template += "#members"
        context["oob_messages"] = True
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def members(request):
    require(permissions.can_manage_members, request)
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                tenant=request.tenant, actor=Actor.from_request(request), **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error("email", error)
        else:
            # The same words whether or not the address has an account.
            messages.success(request, f"Invitation sent to {invitation.email}.")
            if not request.htmx:
                return redirect("portal:members", tenant_slug=request.tenant.slug)
            form = MemberAddForm()
    return _members_page(request, form, status=422 if form.errors else 200)


@require_POST
@vary_on_headers("HX-Request")
def member_role(request, member_uuid):
    membership = access_membership(request, member_uuid, write=True)
    form = MemberRoleForm.for_member(membership, request.POST)
    error = None
    if form.is_valid():
        try:
            membership = services.member_change_role(
                membership=membership,
                role=form.cleaned_data["role"],
                actor=Actor.from_request(request),
            )
        except ValidationError as e:
            error = e.message
    else:
        error = "Choose one of the roles."
    if not error and membership.user == request.user:
        # Admins who change their own role may lose this page: start again from Home.
        messages.success(request, f"You are now {membership.get_role_display()}.")
        home = reverse("portal:home", kwargs={"tenant_slug": request.tenant.slug})
        return HttpResponseClientRedirect(home) if request.htmx else redirect(home)
    if request.htmx:
        context = {"member": membership, "row_error": error}
        return render(
            request, "portal/member_list.html#member-row", context, status=422 if error else 200
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request, f"{membership.user.email} is now {membership.get_role_display()}."
        )
    return redirect("portal:members", tenant_slug=request.tenant.slug)


@require_http_methods(["GET", "POST"])
def member_remove(request, member_uuid):
    membership = access_membership(request, member_uuid, write=True)
    if not permissions.can_remove_member(request.membership, membership):
        messages.error(request, services.LastAdminError().message)
        return redirect("portal:members", tenant_slug=request.tenant.slug)
    if request.method == "POST":
        try:
            services.member_remove(membership=membership, actor=Actor.from_request(request))
        except ValidationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{membership.user.email} was removed.")
            if membership.user == request.user:
                return redirect("start")  # they have left this tenant
        return redirect("portal:members", tenant_slug=request.tenant.slug)
    return render(request, "portal/member_remove.html", {"member": membership})


@require_POST
def invitation_resend(request, invitation_uuid):
    invitation = access_invitation(request, invitation_uuid)
    try:
        services.invitation_resend(invitation=invitation, actor=Actor.from_request(request))
    except ValidationError as error:  # accepted, declined or canceled since the page showed
        messages.error(request, error.message)
    else:
        messages.success(request, f"Invitation sent to {invitation.email} again.")
    return redirect("portal:members", tenant_slug=request.tenant.slug)


@require_POST
def invitation_cancel(request, invitation_uuid):
    invitation = access_invitation(request, invitation_uuid)
    try:
        services.invitation_cancel(invitation=invitation, actor=Actor.from_request(request))
    except ValidationError as error:  # accepted, declined or canceled since the page showed
        messages.error(request, error.message)
    else:
        messages.success(request, f"The invitation to {invitation.email} was canceled.")
    return redirect("portal:members", tenant_slug=request.tenant.slug)


def filtered_audit_events(request):
    require(permissions.can_view_audit_log, request)
    form = AuditFilterForm(request.GET or None, tenant=request.tenant)
    events = AuditEvent.objects.for_tenant(request.tenant).select_related("actor_partner")
    if form.is_valid():
        data = form.cleaned_data
        events = events.matching(
            actor=data["actor"], verb=data["verb"], since=data["date_from"], until=data["date_to"]
        )
    elif form.is_bound:
        events = events.none()  # the filters say what to fix
    return form, events


@require_GET
@vary_on_headers("HX-Request")
def audit_log(request):
    form, events = filtered_audit_events(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "portal/auditevent_list.html"
    if request.htmx and request.htmx.target == "audit":
        template += "#audit"
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()})


@require_GET
def audit_log_csv(request):
    """The filtered audit log as CSV, streamed: columns in words, times in UTC."""
    _form, events = filtered_audit_events(request)
    filename = f"audit-log-{request.tenant.slug}-{timezone.now():%Y-%m-%d}.csv"
    return csv_response(audit_csv_rows(events), filename)
