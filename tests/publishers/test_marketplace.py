import re
import uuid

import pytest

from portal.models import Role
from publishers.models import App, Category, PricingModel, Term
from tests.factories import (
    AppFactory,
    MembershipFactory,
    PlanFactory,
    PublisherFactory,
    TenantFactory,
)

URL = "/t/contoso/marketplace/"


def app_url(tenant, app):
    return f"/t/{tenant.slug}/marketplace/apps/{app.uuid}/"


def names(response):
    return [app.name for app in response.context["page"]]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        ("billing_admin", 200),
        ("reader", 200),
        ("member", 403),
    ],
)
def test_who_may_browse(request, login, tenant, persona, status):
    assert login(request.getfixturevalue(persona)).get(URL).status_code == status


def test_marketplace_shows_in_the_billing_navigation(login, tenant, reader, member):
    assert b'href="/t/contoso/marketplace/"' in login(reader).get("/t/contoso/").content
    assert b"/marketplace/" not in login(member).get("/t/contoso/").content


def test_cards_show_the_lowest_price_in_the_tenants_currency(login, tenant, admin):
    seats = AppFactory(name="Seat App", pricing_model=PricingModel.PER_SEAT)
    PlanFactory(app=seats, term=Term.MONTHLY, prices={"USD": 400, "EUR": 380})
    PlanFactory(app=seats, term=Term.ANNUAL, prices={"USD": 4000})
    flat = AppFactory(name="Flat App", pricing_model=PricingModel.FLAT_RATE)
    PlanFactory(app=flat, term=Term.ANNUAL, prices={"USD": 12000})
    html = login(admin).get(URL).content.decode()
    assert "from $4.00 per license per month" in html
    assert "from $120.00 per year, unlimited licenses" in html


def test_a_tenant_sees_only_apps_priced_in_its_currency(db, login):
    australia = TenantFactory(slug="koala", country="AU")
    user = MembershipFactory(tenant=australia, role=Role.READER).user
    PlanFactory(app=AppFactory(name="Everywhere"), prices={"USD": 400, "AUD": 600})
    PlanFactory(app=AppFactory(name="US only"), prices={"USD": 400})
    response = login(user).get("/t/koala/marketplace/")
    assert names(response) == ["Everywhere"]
    assert "from $6.00 per license per month" in response.content.decode()


def test_private_plans_only_for_their_tenants_also_by_direct_url(
    login, tenant, admin, other_tenant, other_admin
):
    private_app = AppFactory(name="Bespoke")
    plan = PlanFactory(app=private_app, is_private=True, prices={"USD": 900, "EUR": 900})
    plan.allowed_tenants.add(tenant)
    assert names(login(admin).get(URL)) == ["Bespoke"]
    assert login(admin).get(app_url(tenant, private_app)).status_code == 200
    other = login(other_admin)
    assert names(other.get("/t/fabrikam/marketplace/")) == []
    assert other.get(app_url(other_tenant, private_app)).status_code == 404


def test_stop_sell_plans_are_not_offered(login, tenant, admin):
    app = AppFactory(name="Winding down")
    PlanFactory(app=app, name="Legacy", is_stop_sell=True, prices={"USD": 100})
    PlanFactory(app=app, name="Current", prices={"USD": 500})
    client = login(admin)
    assert "from $5.00" in client.get(URL).content.decode()
    detail = client.get(app_url(tenant, app)).content.decode()
    assert "Current" in detail
    assert "Legacy" not in detail


def test_unpublished_apps_and_inactive_publishers_are_hidden(login, tenant, admin):
    hidden = AppFactory(name="Draft", is_published=False)
    PlanFactory(app=hidden)
    gone = AppFactory(name="Gone", publisher=PublisherFactory(is_active=False))
    PlanFactory(app=gone)
    client = login(admin)
    assert names(client.get(URL)) == []
    assert client.get(app_url(tenant, hidden)).status_code == 404
    assert client.get(app_url(tenant, gone)).status_code == 404


def test_search_by_app_or_publisher_and_filter(login, tenant, admin):
    acme = PublisherFactory(name="Quillfeather")
    PlanFactory(app=AppFactory(name="Ledger Pro", publisher=acme, category=Category.FINANCE))
    PlanFactory(
        app=AppFactory(
            name="Chat Hub", category=Category.COLLABORATION, pricing_model=PricingModel.FLAT_RATE
        )
    )
    PlanFactory(app=AppFactory(name="Aardvark Notes"))
    client = login(admin)
    assert names(client.get(URL)) == ["Aardvark Notes", "Chat Hub", "Ledger Pro"]
    assert names(client.get(URL, {"q": "ledger"})) == ["Ledger Pro"]
    assert names(client.get(URL, {"q": "quillfeather"})) == ["Ledger Pro"]
    assert names(client.get(URL, {"category": "collaboration"})) == ["Chat Hub"]
    assert names(client.get(URL, {"pricing": "flat_rate"})) == ["Chat Hub"]
    assert names(client.get(URL, {"pricing": "free"})) == []  # an invalid filter finds nothing


def test_pages_of_24(login, tenant, admin):
    for i in range(30):
        PlanFactory(app=AppFactory(name=f"App {i:02}"))
    client = login(admin)
    first = client.get(URL)
    assert len(first.context["page"]) == 24
    assert len(client.get(URL, {"page": 2}).context["page"]) == 6


def test_htmx_search_answers_with_the_results_only(login, tenant, admin):
    PlanFactory(app=AppFactory(name="Ledger Pro"))
    response = login(admin).get(
        URL, {"q": "ledger"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    html = response.content.decode()
    # The results, and the count for the page's status line (announced to screen readers).
    assert html.lstrip().startswith('<p id="result-count" hx-swap-oob="innerHTML">1 app</p>')
    assert html.count('<div id="results">') == 1 and "<header" not in html
    assert "Ledger Pro" in html
    assert "HX-Request" in response["Vary"]


def test_sorted_by_name_or_lowest_price(login, tenant, admin):
    for name, amount in [("Banjo", 500), ("Accordion", 900), ("Cello", 100)]:
        PlanFactory(app=AppFactory(name=name), prices={"USD": amount})
    client = login(admin)
    assert names(client.get(URL)) == ["Accordion", "Banjo", "Cello"]
    assert names(client.get(URL, {"sort": "name"})) == ["Accordion", "Banjo", "Cello"]
    cheapest_first = client.get(URL, {"sort": "price"})
    assert names(cheapest_first) == ["Cello", "Banjo", "Accordion"]
    assert "3 apps, lowest price first" in cheapest_first.content.decode()
    refused = client.get(URL, {"sort": "popularity"})
    assert names(refused) == [] and "Fix the search above" in refused.content.decode()


def test_the_kept_cards_follow_a_price_change(transactional_db, login, tenant, admin):
    plan = PlanFactory(app=AppFactory(name="Banjo"), prices={"USD": 500})
    client = login(admin)
    assert "from $5.00" in client.get(URL).content.decode()
    assert "from $5.00" in client.get(URL).content.decode()  # the kept cards
    plan.prices.filter(currency="USD").update(amount=700)  # a queryset write, no signal
    assert "from $7.00" in client.get(URL).content.decode()


def test_app_page_lists_plans_with_price_term_and_bounds(login, tenant, admin):
    app = AppFactory(name="Seat App", publisher=PublisherFactory(legal_name="Seat Co Ltd."))
    PlanFactory(
        app=app,
        name="Team",
        term=Term.MONTHLY,
        min_quantity=5,
        max_quantity=50,
        prices={"USD": 700},
    )
    PlanFactory(app=app, name="Team yearly", term=Term.ANNUAL, prices={"USD": 7000})
    flat = AppFactory(name="Flat App", pricing_model=PricingModel.FLAT_RATE)
    PlanFactory(app=flat, name="Site", term=Term.ANNUAL, prices={"USD": 12000})
    client = login(admin)
    html = client.get(app_url(tenant, app)).content.decode()
    assert "Seat Co Ltd." in html
    assert "5\N{EN DASH}50" in html
    assert "$7.00 per license per month" in html
    assert "$70.00 per license per year" in html
    flat_html = client.get(app_url(tenant, flat)).content.decode()
    assert "Unlimited" in flat_html
    assert "$120.00 per year, unlimited licenses" in flat_html


def test_the_app_page_is_refused_to_members(login, tenant, member):
    app = AppFactory()
    PlanFactory(app=app)
    assert login(member).get(app_url(tenant, app)).status_code == 403


def test_an_app_whose_only_plan_stopped_selling_leaves_the_list(
    transactional_db, login, tenant, admin
):
    app = AppFactory(name="Sunset")
    plan = PlanFactory(app=app)
    client = login(admin)
    assert names(client.get(URL)) == ["Sunset"]
    plan.is_stop_sell = True
    plan.save()  # the cached count follows the catalog (on commit: a real one here)
    response = client.get(URL)
    assert names(response) == []
    assert response.context["page"].paginator.count == 0
    assert client.get(app_url(tenant, app)).status_code == 404


def test_apps_with_the_same_name_are_each_shown_once_across_pages(login, tenant, admin):
    for _ in range(30):
        PlanFactory(app=AppFactory(name="Same Pro"))
    client = login(admin)
    seen = [a.uuid for p in (1, 2) for a in client.get(URL, {"page": p}).context["page"]]
    assert len(seen) == len(set(seen)) == 30


def test_a_full_page_costs_a_fixed_number_of_queries(
    login, tenant, admin, django_assert_num_queries
):
    for i in range(30):
        app = AppFactory(name=f"App {i:02}", publisher=PublisherFactory())
        PlanFactory(app=app, prices={"USD": 100 + i})
        PlanFactory(app=app, term=Term.ANNUAL, prices={"USD": 1000 + i})
    client = login(admin)
    client.get(URL)  # signs the session's idle expiry, fills the cached count and cards
    # session, user, membership; the cards are kept rendered (the tenant switcher's menu
    # loads when opened)
    with django_assert_num_queries(3):
        response = client.get(URL)
    assert len(response.context["page"]) == 24
    # A page not seen yet: + the page of apps with their cheapest offer, whatever its size.
    with django_assert_num_queries(4):  # the results region alone
        client.get(URL, {"page": 2}, headers={"HX-Request": "true", "HX-Target": "results"})


def test_a_new_invitation_shows_the_private_plan_at_once(transactional_db, login, tenant, admin):
    plan = PlanFactory(app=AppFactory(name="Bespoke"), is_private=True)
    client = login(admin)
    assert names(client.get(URL)) == []
    plan.allowed_tenants.add(tenant)  # the cached invitations and count follow
    assert names(client.get(URL)) == ["Bespoke"]
    plan.allowed_tenants.remove(tenant)
    assert names(client.get(URL)) == []


def test_the_kept_app_page_follows_the_catalog(
    transactional_db, login, tenant, admin, django_assert_num_queries
):
    plan = PlanFactory(app=AppFactory(name="Banjo"), prices={"USD": 500})
    client = login(admin)
    page = app_url(tenant, plan.app)
    assert "$5.00" in client.get(page).content.decode()
    with django_assert_num_queries(3):  # session, user, membership: the app and plans kept
        assert "$5.00" in client.get(page).content.decode()
    plan.prices.filter(currency="USD").update(amount=700)  # a queryset write, no signal
    assert "$7.00" in client.get(page).content.decode()
    App.objects.filter(pk=plan.app.pk).update(is_published=False)
    assert client.get(page).status_code == 404  # unpublished: gone at once


def card_names(response):
    """The names on the cards as served (kept or not), not the view's context."""
    return re.findall(r'<span class="app-name">([^<]+)</span>', response.content.decode())


def test_kept_cards_are_each_tenants_own(transactional_db, login, tenant, admin):
    # Two tenants of the same country ask the same: only one is invited to the private plan.
    neighbour = TenantFactory(slug="neighbour", country=tenant.country)
    neighbour_admin = MembershipFactory(tenant=neighbour, role=Role.ADMIN).user
    PlanFactory(app=AppFactory(name="Public"), prices={"USD": 500})
    private = PlanFactory(app=AppFactory(name="Bespoke"), is_private=True, prices={"USD": 900})
    private.allowed_tenants.add(tenant)
    ours, theirs = login(admin), login(neighbour_admin)
    for _ in range(2):  # the second time from the kept cards
        assert card_names(ours.get(URL)) == ["Bespoke", "Public"]
        assert card_names(theirs.get("/t/neighbour/marketplace/")) == ["Public"]
    private.allowed_tenants.add(neighbour)
    assert card_names(theirs.get("/t/neighbour/marketplace/")) == ["Bespoke", "Public"]


def test_typed_searches_are_not_kept(login, tenant, admin, django_assert_num_queries):
    PlanFactory(app=AppFactory(name="Banjo"), prices={"USD": 500})
    client = login(admin)
    client.get(URL, {"q": "ban"})
    with django_assert_num_queries(4):  # session, user, membership, and the page of apps
        assert card_names(client.get(URL, {"q": "ban"})) == ["Banjo"]


def test_made_up_app_ids_are_not_kept(login, tenant, admin, django_assert_num_queries):
    client = login(admin)
    made_up = f"/t/contoso/marketplace/apps/{uuid.uuid4()}/"
    assert client.get(made_up).status_code == 404
    with django_assert_num_queries(4):  # asked again: session, user, membership, the app
        assert client.get(made_up).status_code == 404
