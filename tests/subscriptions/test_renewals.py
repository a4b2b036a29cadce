"""Billing > Renewals: what renews or ends in the next 120 days, as the people who read it
see it: which rows, what each says, the month's totals, the filter, who sees what, the CSV,
and the same dates on the app page and in the services that act on them."""

import csv
import datetime
import io
import re
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import ProfileRole
from portal.audit import Actor
from publishers.models import Price, PricingModel, Term
from subscriptions import services
from subscriptions.lifecycle import Status
from subscriptions.models import Subscription
from subscriptions.renewals import Action, outlook
from subscriptions.services import sweep
from subscriptions.services.common import utc_day
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    BillingProfileRoleFactory,
    PlanFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("publisher")
DAY = datetime.timedelta(days=1)


def url(tenant, rest=""):
    return f"/t/{tenant.slug}/billing/renewals/{rest}"


@pytest.fixture
def today():
    return utc_day(timezone.now())


@pytest.fixture
def profile(tenant):
    return BillingProfileFactory(tenant=tenant, name="Contoso HQ", is_default=True)


@pytest.fixture
def make(today):
    """An active subscription of `profile` whose term ends `ends` days from today."""
    names = count(1)

    def make(profile, ends, *, price=900, per_seat=True, term=Term.MONTHLY, **fields):
        model = PricingModel.PER_SEAT if per_seat else PricingModel.FLAT_RATE
        plan = PlanFactory(
            app=AppFactory(name=f"App {next(names)}", pricing_model=model),
            term=term,
            prices={profile.currency: price},
        )
        sub = SubscriptionFactory(billing_profile=profile, plan=plan, unit_amount=price)
        sub = services.subscription_activate(subscription=sub, actor=SYSTEM)
        end = today + datetime.timedelta(days=ends)
        Subscription.objects.filter(pk=sub.pk).update(
            term_start=end - datetime.timedelta(days=30), term_end=end, **fields
        )
        sub.refresh_from_db()
        return sub

    return make


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def rows_of(page: str) -> list[str]:
    """The app names of the page's rows, in order."""
    return re.findall(r'<td data-label="App"><a href="[^"]+"><strong>([^<]+)</strong>', page)


def test_what_renews_or_ends_in_the_next_120_days_by_month_with_each_months_totals(
    login, tenant, admin, profile, make, today
):
    renews = make(profile, 0, name="Renews today")
    make(profile, 119, name="Last day of the window")
    make(profile, 120, name="Beyond the window")
    make(profile, -1, name="Overdue")  # the sweep's, not the page's
    expires = make(profile, 10, name="Expires soon", auto_renew=False)
    suspended = make(profile, 20, name="Suspended one", status=Status.SUSPENDED)
    make(profile, 30, name="Suspended, not renewing", status=Status.SUSPENDED, auto_renew=False)
    SubscriptionFactory(billing_profile=profile, name="Pending set-up")
    page = login(admin).get(url(tenant))
    assert page.status_code == 200
    text = page.content.decode()
    assert rows_of(text) == [
        "Renews today",
        "Expires soon",
        "Suspended one",
        "Suspended, not renewing",
        "Last day of the window",
    ]
    for sub in (renews, expires, suspended):
        assert f'href="/t/contoso/billing/products/apps/{sub.uuid}/"' in text
    assert f"{today:%B %Y}</h2>" in text
    assert ">Renews<" in text and ">Expires<" in text and ">Stays suspended<" in text
    # Only what is charged on its day counts in the month's total: 5 licenses at $9.00.
    assert "$45.00</strong>" in text


def test_a_suspended_app_whose_term_has_ended_is_listed_first_as_it_renews_once_reinstated(
    login, tenant, admin, profile, make, today
):
    make(profile, 3, name="Renews soon")
    ended = make(profile, -40, name="Ended while suspended", status=Status.SUSPENDED)
    make(profile, -40, name="Ended, not renewing", status=Status.SUSPENDED, auto_renew=False)
    client = login(admin)
    text = client.get(url(tenant)).content.decode()
    assert rows_of(text) == ["Ended while suspended", "Renews soon"]
    assert f"{today:%B %Y}</h2>" in text and "Any day" in text
    assert '$45.00</strong> <span class="muted">(1 app)</span>' in text  # not charged yet
    ahead = outlook(Subscription.objects.with_renewal_price().get(pk=ended.pk), today)
    assert (ahead.action, ahead.change_until) == (Action.STAYS_SUSPENDED, None)
    detail = client.get(f"/t/contoso/billing/products/apps/{ended.uuid}/").content.decode()
    assert "while suspended; once reinstated it renews at $45.00 for 5 licenses" in detail
    assert "auto-renew off to let it expire at the next daily run" in detail
    rows = csv_rows(client.get(url(tenant, "export.csv")))
    assert rows[1][2] == "Ended while suspended" and rows[1][10] == "any day"


def test_the_price_at_renewal_is_the_plans_price_of_the_day_for_the_licenses_that_renew(
    login, tenant, admin, profile, make
):
    sub = make(profile, 5, price=900, scheduled_quantity=3)
    Price.objects.filter(plan=sub.plan).update(amount=1000)
    ahead = outlook(Subscription.objects.with_renewal_price().get(pk=sub.pk))
    assert (ahead.action, ahead.quantity, ahead.amount) == (Action.RENEWS, 3, 3000)
    text = login(admin).get(url(tenant)).content.decode()
    assert "$30.00" in text and "(from 5)" in text


def test_a_months_totals_are_per_currency_over_every_row_not_only_the_page(
    login, tenant, admin, profile, make, today, monkeypatch
):
    euros = BillingProfileFactory(tenant=tenant, name="Contoso Ireland", country="IE")
    assert euros.currency == "EUR"
    first = today.replace(day=1)
    # Three renewals in the month after this one: two in dollars, one in euros.
    next_month = (first + datetime.timedelta(days=32)).replace(day=1)
    days = (next_month - today).days
    make(profile, days, price=100)
    make(profile, days + 1, price=200, per_seat=False)
    make(euros, days + 2, price=300)
    make(profile, days + 3, price=999, auto_renew=False)  # expires: not charged
    monkeypatch.setattr("subscriptions.renewal_views.PAGE_SIZE", 1)
    client = login(admin)
    for page_number in (1, 2, 3, 4):
        text = client.get(url(tenant), {"page": page_number}).content.decode()
        assert f"{next_month:%B %Y}</h2>" in text
        # 5 x $1.00 + $2.00 flat; 5 x €3.00
        assert '$7.00</strong> <span class="muted">(2 apps)</span>' in text
        assert '€15.00</strong> <span class="muted">(1 app)</span>' in text


def test_a_member_sees_only_the_rows_of_the_profiles_they_hold_a_role_on(
    login, tenant, member, profile, make
):
    theirs = BillingProfileFactory(tenant=tenant, name="Contoso Research")
    BillingProfileRoleFactory(profile=theirs, user=member, role=ProfileRole.READER)
    make(profile, 3, name="Not theirs", price=100)
    make(theirs, 4, name="Theirs", price=200)
    client = login(member)
    text = client.get(url(tenant)).content.decode()
    assert rows_of(text) == ["Theirs"]
    assert "$10.00</strong>" in text and "$5.00" not in text
    assert "Contoso HQ" not in text  # not even in the filter's choices
    rows = csv_rows(client.get(url(tenant, "export.csv")))
    assert [row[2] for row in rows[1:]] == ["Theirs"]
    # A crafted filter for a profile they can't see shows nothing of it.
    crafted = client.get(url(tenant), {"billing_profile": profile.uuid}).content.decode()
    assert rows_of(crafted) == [] and "choose another" in crafted


def test_the_billing_profile_filter_is_in_the_url_and_htmx_swaps_the_list_alone(
    login, tenant, admin, profile, make
):
    other = BillingProfileFactory(tenant=tenant, name="Contoso Research")
    make(profile, 3, name="HQ app")
    make(other, 4, name="Research app")
    client = login(admin)
    full = client.get(url(tenant), {"billing_profile": other.uuid}).content.decode()
    assert rows_of(full) == ["Research app"]
    assert f'export.csv?billing_profile={other.uuid}"' in full
    swapped = client.get(
        url(tenant),
        {"billing_profile": other.uuid},
        headers={"HX-Request": "true", "HX-Target": "renewals"},
    ).content.decode()
    assert swapped.lstrip().startswith('<div id="renewals">')
    assert rows_of(swapped) == ["Research app"] and "<h1>" not in swapped
    assert 'hx-swap-oob="true"' in swapped  # the CSV link follows the filter
    nothing = client.get(url(tenant), {"billing_profile": "not-a-uuid"}).content.decode()
    assert rows_of(nothing) == [] and "choose another" in nothing


def test_the_csv_has_the_pages_rows_in_its_order_with_cells_a_spreadsheet_will_not_run(
    login, tenant, admin, profile, make, today
):
    make(profile, 2, name="=HYPERLINK(evil)", price=1250)
    make(profile, 9, name="Flat", per_seat=False, price=5000, auto_renew=False)
    client = login(admin)
    response = client.get(url(tenant, "export.csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="renewals-contoso-{today:%Y-%m-%d}.csv"'
    )
    rows = csv_rows(response)
    assert rows[0][:3] == ["Date", "Action", "Name"]
    end = today + 2 * DAY
    assert rows[1] == [
        end.isoformat(),
        "Renews",
        "'=HYPERLINK(evil)",
        "App 1",
        rows[1][4],
        rows[1][5],
        "Contoso HQ",
        "5",
        "62.50",
        "USD",
        (end - DAY).isoformat(),
        (end + 6 * DAY).isoformat(),
    ]
    assert rows[2][1:3] == ["Expires", "Flat"] and rows[2][7:10] == ["Unlimited", "50.00", "USD"]
    assert rows[2][11] == ""  # no credit window for what expires
    page = client.get(url(tenant)).content.decode()
    assert rows_of(page) == ["=HYPERLINK(evil)", "Flat"]


def test_the_app_page_says_the_same_dates_as_the_renewals_row(login, tenant, admin, profile, make):
    sub = make(profile, 12)
    ahead = outlook(Subscription.objects.with_renewal_price().get(pk=sub.pk))
    detail = login(admin).get(f"/t/contoso/billing/products/apps/{sub.uuid}/").content.decode()
    renewals = login(admin).get(url(tenant)).content.decode()
    assert ahead.summary in detail
    for when in (ahead.change_until, ahead.credit_until):
        assert f"{when:%-d %b %Y}" in detail and f"{when:%-d %b %Y}" in renewals


def test_the_dates_it_gives_are_the_ones_the_services_and_the_sweep_keep(tenant, profile):
    """Auto-renew turned off by `change_until` stops the renewal; a cancel on
    `credit_until` still credits, and the day after it no longer does."""
    at = datetime.datetime(2027, 1, 10, 9, tzinfo=datetime.UTC)
    plan = PlanFactory(prices={"USD": 900})
    sub = services.subscription_activate(
        subscription=SubscriptionFactory(billing_profile=profile, plan=plan), actor=SYSTEM, now=at
    )
    ahead = outlook(Subscription.objects.with_renewal_price().get(pk=sub.pk))
    assert (ahead.on, ahead.change_until) == (datetime.date(2027, 2, 10), datetime.date(2027, 2, 9))
    assert ahead.credit_until == datetime.date(2027, 2, 16)
    services.subscription_set_auto_renew(subscription=sub, auto_renew=False, actor=SYSTEM)
    renew_at = datetime.datetime(2027, 2, 10, 0, 15, tzinfo=datetime.UTC)
    sweep.run_lifecycle(day=ahead.on, now=renew_at)
    sub.refresh_from_db()
    assert sub.status == Status.DISABLED

    renewing = services.subscription_activate(
        subscription=SubscriptionFactory(billing_profile=profile, plan=plan), actor=SYSTEM, now=at
    )
    renewing = services.subscription_renew(subscription=renewing, actor=SYSTEM, now=renew_at)
    last = datetime.datetime.combine(ahead.credit_until, datetime.time(23, 59), datetime.UTC)
    assert services.cancel_quote(renewing, now=last).amount > 0
    assert services.cancel_quote(renewing, now=last + DAY).amount == 0


def test_nothing_ahead_says_so_and_the_navigation_names_the_page(
    login, tenant, reader, profile, make
):
    make(profile, 200)
    text = login(reader).get(url(tenant)).content.decode()
    assert "Nothing renews or ends in the next 120 days." in text
    assert f'href="{url(tenant)}"' in text and ">Renewals<" in text


def test_the_page_takes_the_same_queries_for_ten_rows_as_for_forty(
    login, tenant, admin, profile, make
):
    client = login(admin)

    def queries():
        client.get(url(tenant))  # warm the session and the caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(tenant)).status_code == 200
        return len(captured)

    for ends in range(10):
        make(profile, ends * 10)
    few = queries()
    for ends in range(30):
        make(profile, ends * 3 + 1)
    assert queries() == few
