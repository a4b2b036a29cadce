from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.audit import Actor

from . import permissions, services, stripe_gateway
from .forms import BillingProfileForm, CardConfirmForm, PaymentMethodForm, RoleGrantForm
from .models import BillingProfile, BillingProfileRole, ProfileRole
from .stripe_gateway import StripeFailure


def access_profile(request, profile_uuid, *, check=None) -> BillingProfile:
    """A profile of the tenant the caller has a role on (else 404), passing `check` (else 403)."""
    profiles = BillingProfile.objects.visible_to(request.membership).select_related("tenant")
    profile = get_object_or_404(profiles, uuid=profile_uuid)
    if check is not None and not check(request.membership, profile):
        raise PermissionDenied(permissions.ROLE_REFUSAL)
    return profile


def _tab(request, profile, tab, template, context=None, status=200):
    role = permissions.profile_role(request.membership, profile)
    role_name = ProfileRole(role).label if role else "none"
    context = {"profile": profile, "tab": tab, "role": role_name, **(context or {})}
    return render(request, template, context, status=status)


def _to(name, request, profile=None):
    kwargs = {"tenant_slug": request.tenant.slug}
    if profile is not None:
        kwargs["profile_uuid"] = profile.uuid
    return reverse(f"billing:{name}", kwargs=kwargs)


@require_GET
def profile_list(request):
    if not permissions.can_view_billing_profiles(request.membership):
        raise PermissionDenied("You have no role on any billing profile of this tenant.")
    profiles = BillingProfile.objects.visible_to(request.membership)
    return render(request, "billing/billingprofile_list.html", {"profiles": profiles})


def _validate_field(request, form):
    """htmx: the one field that changed, checked against the whole form."""
    name = request.htmx.trigger_name
    if name not in form.fields:
        return HttpResponseBadRequest("Unknown field.")
    form.is_valid()
    return HttpResponse(form[name].as_field_group())


@require_http_methods(["GET", "POST"])
def profile_create(request):
    if not permissions.can_create_billing_profile(request.membership):
        raise PermissionDenied("Only tenant admins and billing admins create billing profiles.")
    url = _to("profile_create", request)
    form = BillingProfileForm(request.POST or None, tenant=request.tenant, validate_url=url)
    if request.method == "POST":
        if request.htmx and request.htmx.trigger_name:
            return _validate_field(request, form)
        if form.is_valid():
            try:
                profile = services.billing_profile_create(
                    tenant=request.tenant,
                    values=form.values(),
                    payment_method=form.cleaned_data["payment_method"],
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Billing profile {profile.name} was created.")
                if profile.needs_card:
                    return redirect(_to("card", request, profile))
                return redirect(_to("profile_detail", request, profile))
    status = 422 if form.errors else 200
    return render(request, "billing/billingprofile_form.html", {"form": form}, status=status)


@require_GET
def profile_detail(request, profile_uuid):
    profile = access_profile(request, profile_uuid)
    return _tab(request, profile, "overview", "billing/billingprofile_detail.html")


@require_http_methods(["GET", "POST"])
def profile_edit(request, profile_uuid):
    profile = access_profile(request, profile_uuid, check=permissions.can_edit_billing_profile)
    url = _to("profile_edit", request, profile)
    form = BillingProfileForm(request.POST or None, instance=profile, validate_url=url)
    if request.method == "POST":
        if request.htmx and request.htmx.trigger_name:
            return _validate_field(request, form)
        if form.is_valid():
            try:
                services.billing_profile_update(
                    profile=profile, values=form.values(), actor=Actor.from_request(request)
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "The billing profile was saved.")
                return redirect(_to("profile_detail", request, profile))
        profile.refresh_from_db()  # the page's heading shows what is saved, not what was typed
    status = 422 if form.errors else 200
    context = {"form": form, "profile": profile}
    return render(request, "billing/billingprofile_form.html", context, status=status)


@require_POST
def profile_make_default(request, profile_uuid):
    profile = access_profile(request, profile_uuid)
    refusal = permissions.make_default_refusal(request.membership, profile)
    if refusal:
        raise PermissionDenied(refusal)
    try:
        services.billing_profile_make_default(profile=profile, actor=Actor.from_request(request))
    except ValidationError as error:  # its card went in the meantime
        messages.error(request, _message(error))
        return redirect(_to("profile_list", request))
    messages.success(request, f"{profile.name} is now the default billing profile.")
    return redirect(_to("profile_list", request))


@require_http_methods(["GET", "POST"])
def profile_delete(request, profile_uuid):
    profile = access_profile(request, profile_uuid)
    refusal = permissions.delete_refusal(request.membership, profile)
    if refusal:
        raise PermissionDenied(refusal)
    if request.method == "POST":
        try:
            services.billing_profile_delete(profile=profile, actor=Actor.from_request(request))
        except (ValidationError, StripeFailure) as error:
            messages.error(request, _message(error))
            return redirect(_to("profile_detail", request, profile))
        messages.success(request, f"Billing profile {profile.name} was deleted.")
        return redirect(_to("profile_list", request))
    return _tab(request, profile, "overview", "billing/billingprofile_delete.html")


def _message(error: Exception) -> str:
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


# ---------------------------------------------------------------- payment method


@require_GET
def payment(request, profile_uuid):
    profile = access_profile(request, profile_uuid)
    card_lost, stripe_down = False, ""
    if profile.has_card and permissions.can_manage_payment_method(request.membership, profile):
        # Those who can replace the card learn when Stripe no longer knows it.
        try:
            card_lost = not services.billing_profile_card_known(profile=profile)
        except StripeFailure as error:
            stripe_down = str(error)
    context = {
        "card_lost": card_lost,
        "stripe_down": stripe_down,
        "remittance": settings.REMITTANCE,
    }
    return _tab(request, profile, "payment", "billing/billingprofile_payment.html", context)


@require_POST
def payment_method(request, profile_uuid):
    profile = access_profile(request, profile_uuid, check=permissions.can_manage_payment_method)
    form = PaymentMethodForm(request.POST)
    if form.is_valid():
        try:
            profile = services.billing_profile_set_payment_method(
                profile=profile,
                method=form.cleaned_data["method"],
                actor=Actor.from_request(request),
            )
        except ValidationError as error:
            messages.error(request, _message(error))
        else:
            how = profile.card_label if profile.pays_by_card else "check or wire transfer"
            messages.success(request, f"{profile.name} now pays by {how}.")
    else:
        messages.error(request, "Choose card or check/wire transfer.")
    return redirect(_to("payment", request, profile))


@require_http_methods(["GET", "POST"])
@csp_override(settings.STRIPE_CSP)
def card(request, profile_uuid):
    """Add or replace the card: Stripe's Card Element confirms a SetupIntent in the browser,
    then posts its id here, and the outcome is read back from Stripe."""
    profile = access_profile(request, profile_uuid, check=permissions.can_manage_payment_method)
    actor = Actor.from_request(request)
    error = ""
    if request.method == "POST":
        form = CardConfirmForm(request.POST)
        if form.is_valid():
            try:
                profile = services.billing_profile_card_confirm(
                    profile=profile,
                    setup_intent_id=form.cleaned_data["setup_intent"],
                    actor=actor,
                )
            except (services.CardSetupError, StripeFailure) as failure:
                error = str(failure)
            else:
                messages.success(request, f"{profile.card_label} is now this profile's card.")
                return redirect(_to("payment", request, profile))
        else:
            error = "The card form sent no card setup; nothing was changed."
    setup, stripe_down = None, ""
    try:
        setup = services.billing_profile_card_setup(profile=profile, actor=actor)
    except StripeFailure as failure:
        stripe_down = str(failure)
    context = {
        "setup": setup,
        "stripe_down": stripe_down,
        "error": error,
        "stripe_js_url": settings.STRIPE_JS_URL,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    }
    status = 422 if error else 503 if stripe_down else 200
    return _tab(request, profile, "payment", "billing/billingprofile_card.html", context, status)


# ---------------------------------------------------------------- permissions


@require_http_methods(["GET", "POST"])
def roles(request, profile_uuid):
    profile = access_profile(request, profile_uuid)
    may_manage = permissions.can_manage_profile_roles(request.membership, profile)
    form = RoleGrantForm(request.POST or None, tenant=request.tenant) if may_manage else None
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("Only the profile's owners grant and revoke roles.")
        if form.is_valid():
            try:
                grant = services.billing_profile_role_grant(
                    profile=profile,
                    user_id=form.cleaned_data["user"],
                    role=form.cleaned_data["role"],
                    actor=Actor.from_request(request),
                )
            except ValidationError as error:
                form.add_error("user", error)
            else:
                messages.success(request, f"{grant.user.email} is now {grant.get_role_display()}.")
                return redirect(_to("roles", request, profile))
    # Who inherits access (tenant admins, readers, a partner's people) is shown to those
    # who manage the profile's roles; others see the roles granted on it, as before.
    managers = permissions.can_manage_profile_roles(request.membership, profile)
    people = permissions.people_with_access(profile, inherited=managers)
    context = {"form": form, "people": people}
    status = 422 if form is not None and form.errors else 200
    return _tab(request, profile, "roles", "billing/billingprofile_roles.html", context, status)


@require_http_methods(["GET", "POST"])
def role_revoke(request, profile_uuid, role_uuid):
    profile = access_profile(request, profile_uuid, check=permissions.can_manage_profile_roles)
    grant = get_object_or_404(
        BillingProfileRole.objects.for_profile(profile).select_related("user"), uuid=role_uuid
    )
    if request.method == "POST":
        services.billing_profile_role_revoke(grant=grant, actor=Actor.from_request(request))
        messages.success(request, f"{grant.user.email} no longer has a role on {profile.name}.")
        return redirect(_to("roles", request, profile))
    context = {"grant": grant}
    return _tab(request, profile, "roles", "billing/billingprofilerole_revoke.html", context)


# ---------------------------------------------------------------- Stripe webhook


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's events, verified by signature. 400 for a bad signature, 200 once handled
    (a replay too, so Stripe stops sending it)."""
    try:
        event = stripe_gateway.webhook_event(
            request.body, request.headers.get("Stripe-Signature", "")
        )
    except stripe_gateway.WebhookSignatureInvalid:
        return HttpResponseBadRequest("Bad signature.", content_type="text/plain")
    except stripe_gateway.WebhookPayloadInvalid as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    try:
        outcome = services.stripe_event_handle(event=event)
    except ValidationError as error:
        return HttpResponseBadRequest(_message(error), content_type="text/plain")
    except StripeFailure as error:
        # Stripe retries an event we answer 5xx to; by then it may answer us again.
        return HttpResponse(str(error), status=503, content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")
