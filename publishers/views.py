from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from . import permissions
from .cache import TIMEOUT, CachedCountPaginator, catalog_cached, catalog_version
from .forms import MarketplaceFilterForm
from .models import App

PAGE_SIZE = 24


def access_app(request, app_uuid) -> App:
    """An app the tenant may buy, else 404 (private, unpublished and unpriced apps alike).
    The answer is kept until the catalog changes, per tenant (its country sets the currency)."""
    if not permissions.can_browse_marketplace(request.membership):
        raise PermissionDenied
    tenant = request.tenant
    apps = App.objects.offered_to(tenant).select_related("publisher")
    app = catalog_cached(
        f"app:{tenant.pk}:{tenant.country}:{app_uuid}", apps.filter(uuid=app_uuid).first
    )
    if app is None:
        raise Http404("No such app on offer.")
    return app


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def app_list(request):
    if not permissions.can_browse_marketplace(request.membership):
        raise PermissionDenied
    tenant = request.tenant
    form = MarketplaceFilterForm(request.GET)
    apps = App.objects.offered_to(tenant).with_cheapest_offer(tenant).select_related("publisher")
    if form.is_valid():
        data = form.cleaned_data
        apps = apps.matching(
            text=data["q"], category=data["category"], pricing_model=data["pricing"]
        ).sorted_by(data["sort"])
        # What the count depends on: the tenant (its country sets the currency, so what is
        # on offer) and the filters; not the order.
        filters = sorted((k, v) for k, v in data.items() if k != "sort")
        asked = f"{tenant.pk}:{tenant.country}:{filters}"
    else:
        apps, asked = apps.none(), f"{tenant.pk}:{tenant.country}:invalid"
    sort = form.cleaned_data["sort"] if form.is_valid() else ""
    page = CachedCountPaginator(apps, PAGE_SIZE, key=asked).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "publishers/app_list.html"
    partial = bool(request.htmx and request.htmx.target == "results")
    if partial:
        template += "#results"
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "partial": partial,  # the result count is then updated out of band, and announced
        # The page's cards, kept rendered until the catalog changes: what was asked, by
        # which tenant (the links carry its slug), in which order, which page. Pages of a
        # typed search are not kept: every prefix typed would be a new entry.
        "cards_key": f"{catalog_version()}:{asked}:{sort}:{tenant.slug}:{page.number}",
        "cards_kept_for": 0 if form.is_valid() and form.cleaned_data["q"] else TIMEOUT,
    }
    return render(request, template, context)


@require_GET
def app_detail(request, app_uuid):
    app = access_app(request, app_uuid)
    tenant = request.tenant
    plans = app.plans.offered_to(tenant).with_price(tenant.currency).order_by("term", "amount")
    plans = catalog_cached(f"plans:{tenant.pk}:{tenant.country}:{app.pk}", lambda: list(plans))
    return render(request, "publishers/app_detail.html", {"app": app, "plans": plans})
