"""Billing > Your products > Apps, an app's page and its Settings & actions, and buying."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from billing import permissions as billing_permissions
from billing.models import BillingProfile, Charge, PaymentMethod
from portal.audit import Actor
from portal.csp import allow_form_action
from portal.links import tenant_url
from portal.models import AuditEvent, Membership
from portal.money import format_money as money
from portal.pagination import page_of_ids
from publishers.models import Plan, Publisher

from . import permissions, services
from .forms import (
    AppsFilterForm,
    BillingProfileMoveForm,
    PurchaseForm,
    QuantityForm,
    RenameForm,
)
from .models import AppsSort, Subscription
from .renewals import outlook

PAGE_SIZE = 50


def access_subscription(
    request, subscription_uuid, *, check=None, renewal_price=False
) -> Subscription:
    """A subscription of the tenant the caller may see (else 404), passing `check`, a
    `<x>_refusal(membership, subscription)` function (else 403 with its reason); with
    `renewal_price`, annotated with what its renewal will charge. A quantity change its
    publisher let pass in silence applies first."""
    if not permissions.can_view_subscriptions(request.membership):
        raise Http404("No such app.")
    subscriptions = Subscription.objects.visible_to(request.membership).select_related(
        "plan__app__publisher",
        "billing_profile",
        "bought_by",
        "bought_by_partner",
        "tenant",
        "suspended_for__billing_profile",
    )
    if renewal_price:
        subscriptions = subscriptions.with_renewal_price()
    subscription = get_object_or_404(subscriptions, uuid=subscription_uuid)
    if services.changes_confirm_silent(subscription=subscription):  # its 10 s ran out
        subscription = get_object_or_404(subscriptions, uuid=subscription_uuid)
    if check is not None and (refusal := check(request.membership, subscription)):
        raise PermissionDenied(refusal)
    return subscription


def _detail_url(request, subscription):
    return tenant_url(
        "subscriptions:detail", request.tenant.slug, subscription_uuid=subscription.uuid
    )


def _still(request, refusal):
    """The view's permission check, for the service to ask again of the locked row."""
    return lambda subscription: refusal(request.membership, subscription)


def _words(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def subscription_list(request):
    if not permissions.can_view_subscriptions(request.membership):
        raise Http404("No apps to show.")
    visible = Subscription.objects.visible_to(request.membership)
    publishers = Publisher.objects.filter(pk__in=visible.values("plan__app__publisher"))
    profiles = BillingProfile.objects.visible_to(request.membership).order_by("name")
    form = AppsFilterForm(
        request.GET,
        publishers=publishers.order_by("name").values_list("uuid", "name"),
        profiles=profiles.values_list("uuid", "name"),
    )
    rows = visible.with_term_price()
    if form.is_valid():
        data = form.cleaned_data
        rows = rows.matching(
            text=data["q"],
            status=data["status"],
            publisher=data["publisher"],
            profile=data["billing_profile"],
            pricing_model=data["pricing"],
        ).sorted_by(data["sort"])
    else:
        rows = rows.none()
    # The page's ids first, sorted on the subscriptions' own columns where it can, then
    # only those 50 rows with what they show: a search or sort never joins every row.
    page = page_of_ids(rows, request.GET.get("page"), PAGE_SIZE)
    page.object_list = visible.listed(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    sort = form.cleaned_data.get("sort", "name") if form.is_valid() else "name"
    template = "subscriptions/subscription_list.html"
    partial = bool(request.htmx and request.htmx.target == "results")
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "columns": _columns(query, sort),
        "partial": partial,
        "filtered": any(form.data.get(name) for name in form.fields if name != "sort"),
        "may_buy": permissions.can_buy(request.membership),
    }
    return render(request, template + ("#results" if partial else ""), context)


def _columns(query, sort: str) -> list[dict]:
    """The list's column headings: each a link that sorts by it (again: the other way)."""
    columns = []
    for key, (label, _) in AppsSort.FIELDS.items():
        ascending, descending = sort == key, sort == f"-{key}"
        link = query.copy()
        link["sort"] = f"-{key}" if ascending else key
        state = "ascending" if ascending else "descending" if descending else ""
        columns.append({"label": label, "href": f"?{link.urlencode()}", "sort": state})
    return columns


def _overdue_link(membership, subscription) -> dict | None:
    """Where the member pays the overdue invoice a suspended app waits on: Pay now for a
    card invoice (those who may pay), else the invoice with its bank details (those who may
    see it); None when there is none or they may not."""
    invoice = subscription.suspended_for
    if invoice is None or not billing_permissions.can_view_invoices(
        membership, invoice.billing_profile
    ):
        return None
    pays = billing_permissions.can_pay_invoices(membership, invoice.billing_profile)
    card = invoice.payment_method == PaymentMethod.CARD
    name = "bills:pay" if card and pays else "bills:detail"
    label = f"Pay invoice {invoice.number}" if pays else f"See invoice {invoice.number}"
    return {
        "url": tenant_url(name, membership.tenant.slug, invoice_uuid=invoice.uuid),
        "label": label,
    }


@require_GET
def subscription_detail(request, subscription_uuid):
    subscription = access_subscription(request, subscription_uuid, renewal_price=True)
    membership = request.membership
    events = AuditEvent.objects.for_tenant(request.tenant).filter(
        target_type=Subscription._meta.label_lower, target_id=str(subscription.uuid)
    )
    charges = Charge.objects.for_tenant(request.tenant).of_subscription(subscription.uuid)
    buy_again, not_again = _buy_again(request, subscription)
    quantity_notice, quantity_state = services.quantity_notice(subscription)
    context = {
        "subscription": subscription,
        "quantity_notice": quantity_notice,
        "quantity_state": quantity_state,
        "ahead": outlook(subscription),
        "refusal": permissions.manage_refusal(membership, subscription),
        # While a change waits for the publisher, its notice says so and no second is offered.
        "quantity_refusal": permissions.quantity_refusal(membership, subscription)
        or (quantity_notice if quantity_state == "waiting" else ""),
        "events": events.select_related("actor_user", "actor_partner").order_by(
            "-created_at", "-pk"
        ),
        "charges": charges.select_related("billing_profile")
        .annotate(
            invoice_uuid=F("invoice_line__invoice__uuid"),
            invoice_number=F("invoice_line__invoice__number"),
        )
        .order_by("-created_at", "-pk"),
        "buy_again": buy_again,
        "buy_again_refusal": not_again,
        "overdue": _overdue_link(membership, subscription),
    }
    response = render(request, "subscriptions/subscription_detail.html", context)
    return allow_form_action(response, subscription.plan.app.publisher.landing_page_url)


def _buy_again(request, subscription) -> tuple[str, str]:
    """The Buy again link of a disabled subscription, prefilled, and why there is none
    (both "" when the caller can't buy)."""
    membership = request.membership
    if not subscription.is_disabled or not permissions.can_buy(membership):
        return "", ""
    if not Plan.objects.offered_to(request.tenant).filter(pk=subscription.plan_id).exists():
        return "", "This plan is no longer on offer to you: the Marketplace has the app's plans."
    query = QueryDict(mutable=True)
    if subscription.quantity:
        query["quantity"] = subscription.quantity
    if permissions.may_pay_with(membership, subscription.billing_profile):
        query["billing_profile"] = subscription.billing_profile.uuid
    url = tenant_url("subscriptions:buy", request.tenant.slug, plan_uuid=subscription.plan.uuid)
    return (f"{url}?{query.urlencode()}" if query else url), ""


@require_http_methods(["GET", "POST"])
def subscription_quantity(request, subscription_uuid):
    subscription = access_subscription(
        request, subscription_uuid, check=permissions.quantity_refusal
    )
    data = request.POST if request.method == "POST" else request.GET
    form = QuantityForm(data if "quantity" in data else None, subscription=subscription)
    if request.method == "POST" and request.POST.get("confirm") and form.is_valid():
        try:
            _, quote = services.subscription_change_quantity(
                subscription=subscription,
                quantity=form.cleaned_data["quantity"],
                actor=Actor.from_request(request),
                expected=form.quote,
                check=_still(request, permissions.quantity_refusal),
            )
        except ValidationError as error:
            form.add_error("quantity", _words(error))
        else:
            messages.success(request, quote.done)
            return redirect(_detail_url(request, subscription))
    elif form.is_bound:
        form.is_valid()  # the quote, or the field's error
    template = "subscriptions/subscription_quantity.html"
    partial = bool(request.htmx and request.htmx.target == "quote")
    if partial:
        template += "#quote"
    status = 422 if form.errors and request.method == "POST" else 200
    context = {"subscription": subscription, "form": form, "partial": partial}
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def subscription_billing_profile(request, subscription_uuid):
    subscription = access_subscription(request, subscription_uuid, check=permissions.manage_refusal)
    form = BillingProfileMoveForm(
        request.POST or None, subscription=subscription, membership=request.membership
    )
    if request.method == "POST" and form.is_valid():
        profile = form.cleaned_data["billing_profile"]
        try:
            services.subscription_change_billing_profile(
                subscription=subscription,
                profile=profile,
                actor=Actor.from_request(request),
                check=_still(request, permissions.manage_refusal),
            )
        except ValidationError as error:
            form.add_error("billing_profile", _words(error))
        else:
            messages.success(request, f"{profile.name} pays for {subscription.name} from now on.")
            if request.htmx:  # the side panel: the whole app page, with the message
                return HttpResponseClientRedirect(_detail_url(request, subscription))
            return redirect(_detail_url(request, subscription))
    status = 422 if form.errors else 200
    context = {"subscription": subscription, "form": form}
    # From the app page's side panel (htmx): the panel's content alone.
    template = "billing_profile_panel" if request.htmx else "subscription_billing_profile"
    return render(request, f"subscriptions/{template}.html", context, status=status)


@require_POST
def subscription_auto_renew(request, subscription_uuid):
    subscription = access_subscription(request, subscription_uuid, check=permissions.manage_refusal)
    wanted = request.POST.get("auto_renew")
    if wanted not in ("on", "off"):
        messages.error(request, "Choose to turn auto-renew on or off.")
        return redirect(_detail_url(request, subscription))
    try:
        scheduled = subscription.scheduled_quantity
        subscription = services.subscription_set_auto_renew(
            subscription=subscription,
            auto_renew=wanted == "on",
            actor=Actor.from_request(request),
            check=_still(request, permissions.manage_refusal),
        )
    except ValidationError as error:
        messages.error(request, _words(error))
    else:
        end = subscription.last_day
        if subscription.auto_renew:
            messages.success(request, f"{subscription.name} renews automatically.")
        else:
            when = f"after {end:%-d %B %Y}" if end else "at the end of its first term"
            dropped = (
                f" The decrease to {scheduled} licenses scheduled for the renewal is dropped."
                if scheduled and subscription.scheduled_quantity is None
                else ""
            )
            messages.success(request, f"{subscription.name} expires {when}.{dropped}")
    return redirect(_detail_url(request, subscription))


@require_http_methods(["GET", "POST"])
def subscription_rename(request, subscription_uuid):
    subscription = access_subscription(request, subscription_uuid, check=permissions.manage_refusal)
    form = RenameForm(request.POST or None, initial={"name": subscription.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.subscription_rename(
                subscription=subscription,
                name=form.cleaned_data["name"],
                actor=Actor.from_request(request),
                check=_still(request, permissions.manage_refusal),
            )
        except ValidationError as error:
            form.add_error("name", _words(error))
        else:
            messages.success(request, f"The app is now called {form.cleaned_data['name']}.")
            return redirect(_detail_url(request, subscription))
    status = 422 if form.errors else 200
    context = {"subscription": subscription, "form": form}
    return render(request, "subscriptions/subscription_rename.html", context, status=status)


@require_http_methods(["GET", "POST"])
def subscription_cancel(request, subscription_uuid):
    subscription = access_subscription(request, subscription_uuid, check=permissions.manage_refusal)
    quote = services.cancel_quote(subscription)
    if request.method == "POST":
        try:
            expected = int(request.POST.get("credit", ""))
        except ValueError:
            expected = -1  # a form without the amount shown: never what a cancel gives
        try:
            services.subscription_cancel(
                subscription=subscription,
                actor=Actor.from_request(request),
                expected_credit=expected,
                check=_still(request, permissions.manage_refusal),
            )
        except ValidationError as error:
            messages.error(request, _words(error))
        else:
            credited = f" {money(expected, subscription.currency)} is credited." if expected else ""
            messages.success(request, f"{subscription.name} is canceled.{credited}")
            return redirect(_detail_url(request, subscription))
        quote = services.cancel_quote(subscription)
    context = {"subscription": subscription, "quote": quote}
    return render(request, "subscriptions/subscription_cancel.html", context)


def access_plan(request, plan_uuid) -> Plan:
    """A plan the caller may buy: offered to the tenant (else 404), and the caller a buyer
    (else 403). Stop-sell, private-for-others and unpriced plans are not found."""
    if not permissions.can_buy(request.membership):
        raise PermissionDenied(permissions.BUY_REFUSAL)
    plans = Plan.objects.offered_to(request.tenant).select_related("app__publisher")
    return get_object_or_404(plans, uuid=plan_uuid)


@require_http_methods(["GET", "POST"])
def subscription_buy(request, plan_uuid):
    plan = access_plan(request, plan_uuid)
    membership = request.membership
    data = request.POST if request.method == "POST" else None
    # A link may choose the licenses and the profile (Buy again); never the agreement or the
    # form's key.
    initial = {k: request.GET[k] for k in ("quantity", "billing_profile") if k in request.GET}
    form = PurchaseForm(data, initial=initial, plan=plan, membership=membership)
    if request.method == "POST" and form.is_valid():
        profile = form.cleaned_data["billing_profile"]
        if not permissions.can_buy(membership, profile):
            raise PermissionDenied(permissions.BUY_REFUSAL)
        try:
            subscription, _ = services.subscription_buy(
                tenant=request.tenant,
                plan=plan,
                profile=profile,
                quantity=form.cleaned_data.get("quantity"),
                purchase_key=form.cleaned_data["purchase_key"],
                actor=Actor.from_request(request),
            )
        except services.PurchaseRefused as refusal:
            form.add_error(refusal.field or None, refusal.message)
        else:
            return redirect(
                tenant_url(
                    "subscriptions:bought", request.tenant.slug, subscription_uuid=subscription.uuid
                )
            )
    price = plan.prices.get(currency=request.tenant.currency)  # offered: it has one
    status = 422 if form.errors else 200
    context = {
        "plan": plan,
        "app": plan.app,
        "form": form,
        "price": price,
        "first_term": price.amount * _quantity_asked(form, plan),
    }
    return render(request, "subscriptions/subscription_buy.html", context, status=status)


def _quantity_asked(form, plan) -> int:
    """The licenses the form holds now (as typed, or the initial), within the plan's bounds:
    what the first term's price is shown for. 1 for a flat rate."""
    if "quantity" not in form.fields:
        return 1
    try:
        quantity = int(form["quantity"].value())
    except (TypeError, ValueError):
        return plan.min_quantity
    return min(max(quantity, plan.min_quantity), plan.max_quantity)


@require_GET
def subscription_bought(request, subscription_uuid):
    subscription = access_subscription(request, subscription_uuid)
    context = {
        "subscription": subscription,
        "refusal": permissions.manage_refusal(request.membership, subscription),
    }
    response = render(request, "subscriptions/subscription_bought.html", context)
    return allow_form_action(response, subscription.plan.app.publisher.landing_page_url)


@require_http_methods(["GET", "POST"])
def subscription_handoff(request, subscription_uuid):
    """Manage in publisher's portal: a POST makes a fresh marketplace token and sends the
    caller to the publisher's landing page with it. A GET (the e-mail's link) only shows the
    button: a link a mail client or browser fetches ahead makes no token."""
    subscription = access_subscription(request, subscription_uuid, check=permissions.manage_refusal)
    if request.method == "POST":
        token = services.marketplace_token_issue(
            subscription=subscription, actor=Actor.from_request(request)
        )
        return redirect(services.landing_url(subscription, token))
    response = render(
        request, "subscriptions/subscription_handoff.html", {"subscription": subscription}
    )
    return allow_form_action(response, subscription.plan.app.publisher.landing_page_url)


@login_required
@require_GET
def subscription_go(request, subscription_uuid):
    """A publisher's "back to the marketplace" link, which knows the app but not the tenant:
    to the app's page, for someone who may see it there; 404 for anyone else."""
    found = Subscription.objects.filter(uuid=subscription_uuid).select_related("tenant").first()
    membership = found and Membership.objects.of_user_in(request.user, found.tenant.slug)
    if not membership or not (
        permissions.can_view_subscriptions(membership)
        and Subscription.objects.visible_to(membership).filter(pk=found.pk).exists()
    ):
        raise Http404("No such app.")
    return redirect(
        tenant_url("subscriptions:detail", found.tenant.slug, subscription_uuid=found.uuid)
    )
