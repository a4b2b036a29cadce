"""Buying, Billing > Your products > Apps, an app's page and its Settings & actions, as the
people who use them: who sees what, what each button does, and what a crafted request gets."""

import uuid

import pytest

from billing.models import PaymentMethod, ProfileRole
from portal.models import AuditEvent
from publishers.models import PricingModel
from subscriptions import services
from subscriptions.lifecycle import DisabledReason, Status
from subscriptions.models import BoughtVia, Subscription
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    BillingProfileRoleFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile(tenant):
    return BillingProfileFactory(tenant=tenant, name="Contoso HQ", is_default=True)


@pytest.fixture
def seats_plan():
    app = AppFactory(
        name="Ledger Pro",
        pricing_model=PricingModel.PER_SEAT,
        publisher=PublisherFactory(name="Fabrikam Apps"),
    )
    return PlanFactory(app=app, name="Team", prices={"USD": 900}, min_quantity=1, max_quantity=50)


def buy_url(tenant, plan):
    return f"/t/{tenant.slug}/billing/products/buy/{plan.uuid}/"


def app_url(sub, rest=""):
    return f"/t/{sub.tenant.slug}/billing/products/apps/{sub.uuid}/{rest}"


def buy(client, tenant, plan, profile, **data):
    fields = {
        "quantity": 5,
        "billing_profile": profile.uuid,
        "agree": "on",
        "purchase_key": uuid.uuid4(),
    }
    return client.post(buy_url(tenant, plan), {**fields, **data})


# Buying


def test_buying_a_per_seat_plan_makes_it_pending_and_says_what_comes_next(
    login, tenant, admin, profile, seats_plan, mailoutbox, django_capture_on_commit_callbacks
):
    client = login(admin)
    page = client.get(buy_url(tenant, seats_plan))
    assert page.status_code == 200
    assert "First term: $9.00" in page.content.decode()  # 1 license, the plan's minimum
    assert "First term: $45.00" in client.get(buy_url(tenant, seats_plan) + "?quantity=5").text
    with django_capture_on_commit_callbacks(execute=True):
        response = buy(client, tenant, seats_plan, profile)
    sub = Subscription.objects.get()
    assert response.status_code == 302 and response["Location"] == app_url(sub, "bought/")
    assert (sub.status, sub.quantity, sub.unit_amount, sub.billing_profile) == (
        Status.PENDING_ACTIVATION,
        5,
        900,
        profile,
    )
    assert (sub.bought_via, sub.bought_by) == (BoughtVia.DIRECT, admin)
    done = client.get(response["Location"]).content.decode()
    assert "Next step: set it up in Fabrikam Apps's portal" in done
    (mail,) = mailoutbox
    assert mail.to == [admin.email] and "Ledger Pro" in mail.subject
    assert "$45.00" in mail.body and mail.alternatives[0][1] == "text/html"


def test_a_double_submitted_purchase_buys_once(login, tenant, admin, profile, seats_plan):
    client, key = login(admin), uuid.uuid4()
    first = buy(client, tenant, seats_plan, profile, purchase_key=key)
    second = buy(client, tenant, seats_plan, profile, purchase_key=key)
    assert first["Location"] == second["Location"]
    assert Subscription.objects.count() == 1
    assert AuditEvent.objects.filter(verb="subscription.buy").count() == 1


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"quantity": 51}, "quantity", "Choose 1 to 50 licenses."),
        ({"quantity": 0}, "quantity", "greater than or equal to 1"),
        ({"agree": ""}, "agree", "Accept the customer agreement"),
    ],
)
def test_a_bad_purchase_shows_the_field_error_and_buys_nothing(
    login, tenant, admin, profile, seats_plan, data, field, words
):
    response = buy(login(admin), tenant, seats_plan, profile, **data)
    assert response.status_code == 422
    assert words in " ".join(response.context["form"].errors[field])
    assert not Subscription.objects.exists()


def test_a_profile_in_another_currency_or_without_a_card_is_not_offered_nor_taken(
    login, tenant, admin, profile, seats_plan
):
    euro = BillingProfileFactory(tenant=tenant, country="DE", name="Berlin")
    cardless = BillingProfileFactory(tenant=tenant, payment_method=PaymentMethod.CARD)
    client = login(admin)
    offered = client.get(buy_url(tenant, seats_plan)).context["form"]
    assert list(offered.fields["billing_profile"].queryset) == [profile, cardless]
    assert buy(client, tenant, seats_plan, euro).status_code == 422
    response = buy(client, tenant, seats_plan, cardless)
    assert "has no card yet" in " ".join(response.context["form"].errors["billing_profile"])
    assert not Subscription.objects.exists()


def test_stop_sell_private_and_unpriced_plans_are_not_found(
    login, tenant, other_tenant, admin, profile, seats_plan
):
    stopped = PlanFactory(app=seats_plan.app, is_stop_sell=True)
    private = PlanFactory(app=seats_plan.app, is_private=True)
    private.allowed_tenants.add(other_tenant)
    unpriced = PlanFactory(app=seats_plan.app, prices={"EUR": 800})
    client = login(admin)
    for plan in (stopped, private, unpriced):
        assert client.get(buy_url(tenant, plan)).status_code == 404
        assert buy(client, tenant, plan, profile).status_code == 404
    assert not Subscription.objects.exists()


def test_readers_and_invoice_managers_never_buy(login, tenant, reader, member, profile, seats_plan):
    BillingProfileRoleFactory(profile=profile, user=member, role=ProfileRole.INVOICE_MANAGER)
    for person in (reader, member):
        client = login(person)
        assert client.get(buy_url(tenant, seats_plan)).status_code == 403
        assert buy(client, tenant, seats_plan, profile).status_code == 403
        app = client.get(f"/t/{tenant.slug}/marketplace/apps/{seats_plan.app.uuid}/")
        assert app.status_code in (200, 403) and ">Buy<" not in app.content.decode()
    assert not Subscription.objects.exists()


def test_a_member_who_contributes_to_a_profile_buys_with_it_and_no_other(
    login, tenant, member, profile, seats_plan
):
    other = BillingProfileFactory(tenant=tenant, name="Research")
    BillingProfileRoleFactory(profile=profile, user=member, role=ProfileRole.CONTRIBUTOR)
    client = login(member)
    app_page = client.get(f"/t/{tenant.slug}/marketplace/apps/{seats_plan.app.uuid}/")
    assert app_page.status_code == 200 and 'aria-label="Buy Team"' in app_page.content.decode()
    assert buy(client, tenant, seats_plan, other).status_code == 422  # not among the choices
    assert buy(client, tenant, seats_plan, profile).status_code == 302
    assert Subscription.objects.get().billing_profile == profile


def test_a_partner_buys_for_its_customer_and_the_customer_sees_it_read_only(
    login, tenant, admin, partner_user, partner_tenant, profile, seats_plan
):
    assert buy(login(partner_user), tenant, seats_plan, profile).status_code == 302
    sub = Subscription.objects.get()
    assert (sub.bought_via, sub.bought_by_partner) == (BoughtVia.PARTNER, partner_tenant)
    page = login(admin).get(app_url(sub)).content.decode()
    assert "Managed by Northwind" in page and "Cancel subscription" not in page
    assert login(admin).post(app_url(sub, "cancel/")).status_code == 403
    partner_page = login(partner_user).get(app_url(sub)).content.decode()
    assert "Cancel subscription" in partner_page


# The Apps list


def test_the_apps_list_shows_each_app_and_filters_in_the_url(
    login, tenant, admin, profile, seats_plan
):
    SubscriptionFactory(billing_profile=profile, plan=seats_plan, name="Ledger for finance")
    flat = PlanFactory(app=AppFactory(name="Board", pricing_model=PricingModel.FLAT_RATE))
    SubscriptionFactory(billing_profile=profile, plan=flat, unit_amount=12000)
    client = login(admin)
    page = client.get(f"/t/{tenant.slug}/billing/products/apps/").content.decode()
    assert "Ledger for finance" in page and "Unlimited" in page and "Pending set-up" in page
    assert "$120.00" in page and "$20.00" in page  # the price per term: 5 x $4.00
    found = client.get(f"/t/{tenant.slug}/billing/products/apps/?q=board&sort=-price")
    assert [s.name for s in found.context["page"]] == ["Board"]
    partial = client.get(
        f"/t/{tenant.slug}/billing/products/apps/?pricing=per_seat",
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    html = partial.content.decode()
    assert "<html" not in html and "Ledger for finance" in html and "Board" not in html


def test_the_apps_list_costs_the_same_queries_for_2_rows_or_60(
    login, tenant, admin, profile, seats_plan, django_assert_max_num_queries
):
    client = login(admin)
    url = f"/t/{tenant.slug}/billing/products/apps/?sort=-renews"
    SubscriptionFactory.create_batch(2, billing_profile=profile, plan=seats_plan)
    with django_assert_max_num_queries(11) as few:
        client.get(url)
    SubscriptionFactory.create_batch(
        58, billing_profile=profile, plan=PlanFactory(app=AppFactory())
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["page"]) == 50


def test_a_member_sees_only_the_apps_of_profiles_they_hold_a_role_on(
    login, tenant, member, profile, seats_plan
):
    theirs = SubscriptionFactory(billing_profile=profile, plan=seats_plan, name="Theirs")
    hidden = SubscriptionFactory(
        billing_profile=BillingProfileFactory(tenant=tenant), plan=seats_plan, name="Hidden"
    )
    client = login(member)
    assert client.get(f"/t/{tenant.slug}/billing/products/apps/").status_code == 404
    BillingProfileRoleFactory(profile=profile, user=member, role=ProfileRole.READER)
    page = client.get(f"/t/{tenant.slug}/billing/products/apps/").content.decode()
    assert "Theirs" in page and "Hidden" not in page
    assert client.get(app_url(theirs)).status_code == 200
    assert client.get(app_url(hidden)).status_code == 404
    assert "Cancel subscription" not in client.get(app_url(theirs)).content.decode()


def test_an_empty_list_says_what_to_do(login, tenant, admin, reader):
    assert "No apps yet." in login(admin).get(f"/t/{tenant.slug}/billing/products/apps/").text
    assert (
        "Browse the Marketplace"
        in login(admin).get(f"/t/{tenant.slug}/billing/products/apps/").content.decode()
    )


# The app page and its Settings & actions


@pytest.fixture
def active(tenant, profile, seats_plan):
    sub = SubscriptionFactory(billing_profile=profile, plan=seats_plan, unit_amount=900)
    return services.subscription_activate(subscription=sub, actor=services_actor())


def services_actor():
    from portal.audit import Actor

    return Actor.system("publisher")


def test_the_app_page_shows_the_overview_actions_timeline_and_charges(login, admin, active):
    page = login(admin).get(app_url(active)).content.decode()
    for words in (
        "Settings &amp; actions",
        "Manage in publisher's portal",
        "Change license quantity",
        'aria-label="Edit billing profile"',
        "Turn auto-renew off",
        "Cancel subscription",
        "Active: your people can use it.",
        "App activated",
        "$45.00",
    ):
        assert words in page, words


def test_a_reader_sees_the_page_without_actions_and_is_refused_a_crafted_change(
    login, reader, active
):
    client = login(reader)
    page = client.get(app_url(active)).content.decode()
    assert "Change license quantity" not in page and "Cancel subscription" not in page
    for rest, data in [
        ("quantity/", {"quantity": 9, "confirm": "1", "quoted_old": 5, "quoted_when": "now"}),
        ("cancel/", {}),
        ("auto-renew/", {"auto_renew": "off"}),
        ("rename/", {"name": "Mine"}),
    ]:
        assert client.post(app_url(active, rest), data).status_code == 403
    active.refresh_from_db()
    assert (active.quantity, active.status, active.auto_renew) == (5, Status.ACTIVE, True)


def test_changing_the_quantity_shows_the_amount_then_applies_it(login, admin, active):
    client = login(admin)
    review = client.get(app_url(active, "quantity/") + "?quantity=8").content.decode()
    assert "8 licenses from today:" in review and "is charged now" in review
    partial = client.get(
        app_url(active, "quantity/") + "?quantity=80",
        headers={"HX-Request": "true", "HX-Target": "quote"},
    )
    assert "Choose 1 to 50 licenses." in partial.content.decode()
    assert (
        client.post(app_url(active, "quantity/"), {"quantity": 80, "confirm": "1"}).status_code
        == 422
    )
    quote = client.get(app_url(active, "quantity/") + "?quantity=8").context["form"].quote
    reviewed = {"quoted_old": 5, "quoted_when": "now", "quoted_amount": quote.amount}
    response = client.post(
        app_url(active, "quantity/"), {"quantity": 8, "confirm": "1", **reviewed}
    )
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.quantity == 8


def test_billing_profile_edit_opens_in_the_app_pages_side_panel(login, tenant, admin, active):
    """With htmx the form comes alone, for the side panel; saved, the whole app page comes
    back (HX-Redirect); an error stays in the panel. Without htmx it is a page."""
    research = BillingProfileFactory(tenant=tenant, name="Research")
    client = login(admin)
    page = client.get(app_url(active)).content.decode()
    assert 'id="side-panel"' in page and 'hx-target="#side-panel-body"' in page
    htmx = {"HTTP_HX_REQUEST": "true"}
    panel = client.get(app_url(active, "billing-profile/"), **htmx)
    assert "<html" not in panel.content.decode() and "Research" in panel.content.decode()
    assert "HX-Request" in panel["Vary"]
    assert "<html" in client.get(app_url(active, "billing-profile/")).content.decode()
    wrong = client.post(app_url(active, "billing-profile/"), {"billing_profile": "nope"}, **htmx)
    assert wrong.status_code == 422 and "<html" not in wrong.content.decode()
    saved = client.post(
        app_url(active, "billing-profile/"), {"billing_profile": research.uuid}, **htmx
    )
    assert saved["HX-Redirect"] == app_url(active)
    active.refresh_from_db()
    assert active.billing_profile == research


def test_moving_to_another_profile_lists_only_the_same_currency(login, tenant, admin, active):
    research = BillingProfileFactory(tenant=tenant, name="Research")
    BillingProfileFactory(tenant=tenant, country="DE", name="Berlin")
    client = login(admin)
    form = client.get(app_url(active, "billing-profile/")).context["form"]
    assert list(form.fields["billing_profile"].queryset) == [research]
    response = client.post(app_url(active, "billing-profile/"), {"billing_profile": research.uuid})
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.billing_profile == research
    assert research.currency_is_fixed
    edit = client.post(
        f"/t/{tenant.slug}/billing/accounts/profiles/{research.uuid}/edit/",
        {"country": "DE"},
    )
    assert edit.status_code == 422


def test_auto_renew_off_rename_and_cancel(login, admin, active):
    client = login(admin)
    client.post(app_url(active, "auto-renew/"), {"auto_renew": "off"})
    client.post(app_url(active, "rename/"), {"name": "  Ledger   for finance "})
    confirm = client.get(app_url(active, "cancel/")).content.decode()
    assert "the full first charge, $45.00, is credited" in confirm
    client.post(app_url(active, "cancel/"), {"credit": 4500})
    active.refresh_from_db()
    assert (active.auto_renew, active.name) == (False, "Ledger for finance")
    assert (active.status, active.disabled_reason) == (Status.DISABLED, DisabledReason.CANCELED)
    page = client.get(app_url(active)).content.decode()
    assert "Buy again" in page and "Cancel subscription" not in page
    assert "A disabled app can&#x27;t be reactivated" in page
    assert client.post(app_url(active, "rename/"), {"name": "Back"}).status_code == 403


def test_buy_again_prefills_the_same_plan_profile_and_quantity(login, tenant, admin, active):
    services.subscription_cancel(subscription=active, actor=services_actor())
    client = login(admin)
    page = client.get(app_url(active)).content.decode()
    start = page.index('href="', page.index("Buy again") - 200) + 6
    link = page[start : page.index('"', start)].replace("&amp;", "&")
    form = client.get(link).context["form"]
    assert form["quantity"].value() == "5"
    assert str(form["billing_profile"].value()) == str(active.billing_profile.uuid)


# What a review of the first version found


def test_a_tenant_reader_granted_contributor_still_neither_buys_nor_manages(
    login, tenant, reader, profile, active, seats_plan
):
    BillingProfileRoleFactory(profile=profile, user=reader, role=ProfileRole.CONTRIBUTOR)
    client = login(reader)
    assert buy(client, tenant, seats_plan, profile).status_code == 403
    assert client.post(app_url(active, "cancel/"), {"credit": 4500}).status_code == 403
    assert client.post(app_url(active, "auto-renew/"), {"auto_renew": "off"}).status_code == 403
    active.refresh_from_db()
    assert (active.status, active.auto_renew) == (Status.ACTIVE, True)


def test_a_purchase_key_used_for_another_plan_buys_nothing(
    login, tenant, admin, profile, seats_plan
):
    other = PlanFactory(app=seats_plan.app, name="Big", prices={"USD": 2000})
    client, key = login(admin), uuid.uuid4()
    buy(client, tenant, seats_plan, profile, purchase_key=key)
    response = buy(client, tenant, other, profile, purchase_key=key)
    assert response.status_code == 422
    assert "reload the page" in response.content.decode()
    assert Subscription.objects.count() == 1


def test_a_link_prefills_licenses_and_profile_but_never_the_agreement_or_the_key(
    login, tenant, admin, profile, seats_plan
):
    key = uuid.uuid4()
    form = (
        login(admin)
        .get(buy_url(tenant, seats_plan) + f"?quantity=7&agree=on&purchase_key={key}")
        .context["form"]
    )
    assert form["quantity"].value() == "7"
    assert not form["agree"].value()
    assert str(form["purchase_key"].value()) != str(key)


def test_once_the_partnership_ends_the_customers_admins_manage_what_the_partner_bought(
    login, tenant, admin, partner_user, partner_tenant, profile, seats_plan
):
    from portal.models import PartnerRelationship

    buy(login(partner_user), tenant, seats_plan, profile)
    sub = Subscription.objects.get()
    assert login(admin).post(app_url(sub, "auto-renew/"), {"auto_renew": "off"}).status_code == 403
    PartnerRelationship.objects.filter(partner=partner_tenant).delete()
    page = login(admin).get(app_url(sub)).content.decode()
    assert "Managed by" not in page and "Cancel subscription" in page
    assert login(admin).post(app_url(sub, "auto-renew/"), {"auto_renew": "off"}).status_code == 302
    sub.refresh_from_db()
    assert not sub.auto_renew


def test_a_confirmation_that_no_longer_says_what_will_happen_changes_nothing(login, admin, active):
    client = login(admin)
    services.subscription_change_quantity(subscription=active, quantity=7, actor=services_actor())
    stale = {"quantity": 8, "confirm": "1", "quoted_old": 5, "quoted_when": "now"}
    stale["quoted_amount"] = 2700  # what 5 -> 8 cost before someone else made it 7
    response = client.post(app_url(active, "quantity/"), stale)
    assert response.status_code == 422
    assert "changed since you reviewed it" in response.content.decode()
    active.refresh_from_db()
    assert active.quantity == 7
    cancel = client.post(app_url(active, "cancel/"), {"credit": 1})  # not what it gives back
    assert cancel.status_code == 200 and "changed since you looked" in cancel.content.decode()
    active.refresh_from_db()
    assert active.status == Status.ACTIVE


def test_buy_again_is_offered_only_while_the_plan_is_on_offer(login, admin, active):
    services.subscription_cancel(subscription=active, actor=services_actor())
    type(active.plan).objects.filter(pk=active.plan_id).update(is_stop_sell=True)
    page = login(admin).get(app_url(active)).content.decode()
    assert 'class="button primary"' not in page and "no longer on offer to you" in page


def test_an_apps_pages_mark_your_products_in_the_navigation(login, admin, active):
    client = login(admin)
    for rest in ("", "quantity/", "cancel/"):
        page = client.get(app_url(active, rest)).content.decode()
        assert 'aria-current="page">Your products</a>' in page, rest
