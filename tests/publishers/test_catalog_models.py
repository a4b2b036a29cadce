import base64

import pytest
from django.db import IntegrityError, transaction

from publishers.models import App, Plan, Price, PricingModel, Publisher, Term
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
        (PricingModel.PER_SEAT, {"min_quantity": "1", "max_quantity": "20000"}, "10000"),
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
    assert message.lower() in response.content.decode().lower()
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
    PlanFactory(app=app)
    client = login(operator)
    page = client.get(f"/admin/publishers/app/{app.pk}/change/")
    assert page.status_code == 200
    app.pricing_model = PricingModel.FLAT_RATE
    with pytest.raises(Exception, match="keeps its pricing model"):
        app.full_clean()
    assert App.objects.get().pricing_model == PricingModel.PER_SEAT


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
