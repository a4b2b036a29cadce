"""Billing > Renewals: what renews or ends in the next 120 days, by month, and its CSV."""

import datetime
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from billing.models import BillingProfile
from portal.exports import csv_lines, csv_response
from portal.money import major_amount

from . import permissions
from .forms import RenewalsFilterForm
from .models import Subscription
from .renewals import DAY, HORIZON, MonthTotal, month_totals, outlook, renewals_ahead
from .services.common import utc_day

PAGE_SIZE = 100


def _renewals(request):
    """The filter form and the rows it selects, for the page and the CSV alike."""
    if not permissions.can_view_subscriptions(request.membership):
        raise Http404("No renewals to show.")
    profiles = BillingProfile.objects.visible_to(request.membership).order_by("name")
    form = RenewalsFilterForm(request.GET, profiles=profiles.only("uuid", "name"))
    today = utc_day(timezone.now())
    rows = renewals_ahead(Subscription.objects.visible_to(request.membership), today)
    if not form.is_valid():
        rows = rows.none()
    elif profile := form.cleaned_data["billing_profile"]:
        rows = rows.filter(billing_profile__uuid=profile)
    return form, rows, today


@dataclass
class Month:
    first_day: datetime.date
    totals: list[MonthTotal]
    rows: list = field(default_factory=list)  # (subscription, its outlook) of this page


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def renewal_list(request):
    form, rows, today = _renewals(request)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    totals = month_totals(rows)
    months: list[Month] = []
    for subscription in page.object_list:
        # A suspended app whose term has ended is listed in this month, first.
        first_day = max(subscription.term_end, today).replace(day=1)
        if not months or months[-1].first_day != first_day:
            months.append(Month(first_day, totals.get(first_day, [])))
        months[-1].rows.append((subscription, outlook(subscription, today)))
    query = request.GET.copy()
    query.pop("page", None)
    partial = bool(request.htmx and request.htmx.target == "renewals")
    template = "subscriptions/renewal_list.html" + ("#renewals" if partial else "")
    context = {
        "form": form,
        "page": page,
        "months": months,
        "query": query.urlencode(),
        "today": today,
        "last_day": today + HORIZON - DAY,
        "partial": partial,
        "filtered": bool(form.data.get("billing_profile")),
    }
    return render(request, template, context)


CSV_COLUMNS = [
    "Date",
    "Action",
    "Name",
    "App",
    "Publisher",
    "Plan",
    "Billing profile",
    "Licenses",
    "Price at renewal",
    "Currency",
    "Change by",
    "Cancel with credit until",
]


@require_GET
def renewal_csv(request):
    """The page's rows, every page of them, as CSV: dates ISO, amounts as numbers."""
    _form, rows, today = _renewals(request)
    rows = (_csv_row(subscription, today) for subscription in rows.iterator(chunk_size=500))
    lines = csv_lines(CSV_COLUMNS, rows)
    return csv_response(lines, f"renewals-{request.tenant.slug}-{today:%Y-%m-%d}.csv")


def _csv_row(subscription, today) -> list:
    ahead = outlook(subscription, today)
    return [
        ahead.on.isoformat(),
        ahead.label,
        subscription.name,
        subscription.plan.app.name,
        subscription.plan.app.publisher.name,
        subscription.plan.name,
        subscription.billing_profile.name,
        "Unlimited" if ahead.quantity is None else ahead.quantity,
        major_amount(ahead.amount, ahead.currency),
        ahead.currency,
        ahead.change_until.isoformat() if ahead.change_until else "any day",
        ahead.credit_until.isoformat() if ahead.credit_until else "",
    ]
