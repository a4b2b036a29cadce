import base64

import pytest
from django.db import IntegrityError, transaction

from publishers.models import (
    MAX_SEATS,
    App,
    Plan,
    Price,
    PricingModel,
    Publisher,
    Term,
    quantity_bounds_problem,
)
from tests.factories import AppFactory, PlanFactory, PublisherFactory, UserFactory


def refused(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_webhook_secrets_follow_standard_webhooks_and_are_unique(db):
    first, second = PublisherFactory(), PublisherFactory()
    assert first.webhook_secret.startswith("whsec_")
    assert len(first.webhook_key) == 32
    assert base64.b64encode(first.webhook_key).decode() == first.webhook_secret[6:]
    assert first.webhook_secret != second.webhook_secret
    refused(
        lambda: Publisher.objects.filter(pk=second.pk).update(webhook_secret=first.webhook_secret)
    )


def test_the_database_keeps_the_catalog_invariants(db):
    seats = AppFactory(pricing_model=PricingModel.PER_SEAT)
    flat = AppFactory(pricing_model=PricingModel.FLAT_RATE)
    plan = PlanFactory(app=seats, plan_id="standard")
    refused(lambda: AppFactory(publisher=seats.publisher, offer_id=seats.offer_id))
    refused(lambda: PlanFactory(app=seats, plan_id="standard"))
    refused(
        lambda: Plan.objects.create(
            app=flat, plan_id="x", name="X", term=Term.MONTHLY, min_quantity=1, max_quantity=5
        )
    )
    refused(lambda: Plan.objects.create(app=seats, plan_id="y", name="Y", term=Term.MONTHLY))
    refused(
        lambda: Plan.objects.create(
            app=seats, plan_id="z", name="Z", term=Term.MONTHLY, min_quantity=10, max_quantity=5
        )
    )
    refused(
        lambda: Plan.objects.create(
            app=seats, plan_id="w", name="W", term=Term.MONTHLY, min_quantity=1, max_quantity=10_001
        )
    )
    refused(lambda: Price.objects.create(plan=plan, currency="USD", amount=999))  # twice
    refused(lambda: Price.objects.create(plan=plan, currency="EUR", amount=0))
    refused(lambda: Price.objects.create(plan=plan, currency="JPY", amount=100))


@pytest.mark.parametrize(
    ("pricing", "low", "high"),
    [
        (PricingModel.FLAT_RATE, None, None),
        (PricingModel.FLAT_RATE, 1, 5),
        (PricingModel.FLAT_RATE, None, 5),
        (PricingModel.PER_SEAT, None, None),
        (PricingModel.PER_SEAT, 1, None),
        (PricingModel.PER_SEAT, 0, 5),
        (PricingModel.PER_SEAT, 1, 1),
        (PricingModel.PER_SEAT, 5, 4),
        (PricingModel.PER_SEAT, 1, MAX_SEATS),
        (PricingModel.PER_SEAT, MAX_SEATS, MAX_SEATS),
        (PricingModel.PER_SEAT, 1, MAX_SEATS + 1),
    ],
)
def test_the_bounds_rule_and_the_database_constraint_agree(db, pricing, low, high):
    app = AppFactory(pricing_model=pricing)

    def make():
        Plan.objects.create(
            app=app, plan_id="p", name="P", term=Term.MONTHLY, min_quantity=low, max_quantity=high
        )

    if quantity_bounds_problem(pricing, low, high) is None:
        make()
    else:
        refused(make)
        assert not Plan.objects.exists()


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True)


def plan_form(app, **overrides):
    data = {
        "app": app.pk,
        "plan_id": "team",
        "name": "Team",
        "description": "",
        "term": "P1M",
        "min_quantity": "",
        "max_quantity": "",
        "prices-TOTAL_FORMS": "1",
        "prices-INITIAL_FORMS": "0",
        "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000",
        "prices-0-currency": "USD",
        "prices-0-amount": "400",
    }
    return {**data, **overrides}


@pytest.mark.parametrize(
    ("pricing", "overrides", "message"),
    [
        (PricingModel.FLAT_RATE, {"min_quantity": "1", "max_quantity": "5"}, "leave empty"),
        (PricingModel.PER_SEAT, {}, "need a minimum and a maximum"),
        (PricingModel.PER_SEAT, {"min_quantity": "9", "max_quantity": "3"}, "below the minimum"),
        (
            PricingModel.PER_SEAT,
            {"min_quantity": "1", "max_quantity": "20000"},
            "Per-license plans have 1 to 10,000 licenses.",
        ),
        (
            PricingModel.PER_SEAT,
            {"min_quantity": "1", "max_quantity": "5", "prices-0-amount": "0"},
            "more than zero",
        ),
    ],
)
def test_bad_plans_in_the_admin_are_field_errors_not_500s(
    login, operator, pricing, overrides, message
):
    app = AppFactory(pricing_model=pricing)
    response = login(operator).post("/admin/publishers/plan/add/", plan_form(app, **overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert message.lower() in html.lower()
    assert "Ensure this value" not in html  # one rule, one message (no field validators)
    assert not Plan.objects.exists()


def test_a_good_plan_saves_through_the_admin(login, operator):
    app = AppFactory(pricing_model=PricingModel.PER_SEAT)
    response = login(operator).post(
        "/admin/publishers/plan/add/", plan_form(app, min_quantity="1", max_quantity="50")
    )
    assert response.status_code == 302
    plan = Plan.objects.get()
    assert (plan.pricing_model, plan.max_quantity, plan.prices.get().amount) == (
        "per_seat",
        50,
        400,
    )


def test_an_app_with_plans_keeps_its_pricing_model(login, operator):
    app = AppFactory(pricing_model=PricingModel.PER_SEAT)
    plan = PlanFactory(app=app)
    form = {
        "publisher": app.publisher.pk,
        "offer_id": app.offer_id,
        "name": app.name,
        "summary": app.summary,
        "description": app.description,
        "category": app.category,
        "pricing_model": PricingModel.FLAT_RATE,
        "is_published": "on",
        "plans-TOTAL_FORMS": "1",
        "plans-INITIAL_FORMS": "1",
        "plans-MIN_NUM_FORMS": "0",
        "plans-MAX_NUM_FORMS": "1000",
        "plans-0-id": plan.pk,
        "plans-0-app": app.pk,
        "plans-0-plan_id": plan.plan_id,
        "plans-0-name": plan.name,
        "plans-0-term": plan.term,
        "plans-0-min_quantity": "1",
        "plans-0-max_quantity": "500",
    }
    response = login(operator).post(f"/admin/publishers/app/{app.pk}/change/", form)
    assert response.status_code == 200
    assert b"The app has plans, so it keeps its pricing model &#x27;per_seat&#x27;." in (
        response.content
    )
    assert App.objects.get().pricing_model == PricingModel.PER_SEAT


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("contact_emails", "", None),
        ("contact_emails", "null", None),
        ("contact_emails", '{"a": 1}', "Give a list of e-mail addresses."),
        ("contact_emails", '["not-an-address"]', "is not an e-mail address"),
        ("country", "gb", "Two capital letters"),
    ],
)
def test_publisher_admin_input_is_checked_field_by_field(login, operator, field, value, message):
    form = {
        "name": "Acme",
        "slug": "acme",
        "is_active": "on",
        "legal_name": "Acme Ltd.",
        "address_line1": "1 Road",
        "city": "Leeds",
        "country": "GB",
        "support_url": "https://acme.example/",
        "support_email": "s@acme.example",
        "contact_emails": "[]",
        "landing_page_url": "https://acme.example/go",
        "secrets-TOTAL_FORMS": "0",
        "secrets-INITIAL_FORMS": "0",
        "apps-TOTAL_FORMS": "0",
        "apps-INITIAL_FORMS": "0",
        "apps-MIN_NUM_FORMS": "0",
        "apps-MAX_NUM_FORMS": "1000",
        field: value,
    }
    response = login(operator).post("/admin/publishers/publisher/add/", form)
    if message is None:
        assert response.status_code == 302
        assert Publisher.objects.get().contact_emails == []
    else:
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not Publisher.objects.exists()


def test_admin_lists_and_searches_the_catalog(login, operator):
    PlanFactory(app=AppFactory(name="Ledger Pro"))
    client = login(operator)
    for path in [
        "/admin/publishers/publisher/",
        "/admin/publishers/app/?q=ledger",
        "/admin/publishers/plan/?q=ledger",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
    assert b"Ledger Pro" in client.get("/admin/publishers/app/?q=ledger").content
