"""The Fulfillment API so far (resolve, activate, get one subscription), as a publisher's
client calls it: bearer token, api-version, ids echoed, JSON errors, and a publisher
seeing only its own apps' subscriptions."""

import json
import uuid

import pytest

from billing.models import Charge, ChargeKind
from portal.audit import Actor
from portal.models import AuditEvent
from subscriptions import services
from subscriptions.lifecycle import Status
from subscriptions.models import Subscription
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
    bearer,
)

pytestmark = pytest.mark.django_db
V = "?api-version=2018-08-31"
BASE = "/api/saas/subscriptions"


@pytest.fixture
def publisher():
    return PublisherFactory(name="Quillfeather Labs", slug="quillfeather")


@pytest.fixture
def sub(tenant, admin, publisher):
    app = AppFactory(name="Ledger Pro", publisher=publisher, offer_id="ledger-pro")
    plan = PlanFactory(app=app, plan_id="team", prices={"USD": 900})
    profile = BillingProfileFactory(tenant=tenant)
    return SubscriptionFactory(billing_profile=profile, plan=plan, bought_by=admin, unit_amount=900)


def marketplace_token(sub) -> str:
    return services.marketplace_token_issue(subscription=sub, actor=Actor.system())


def test_resolve_gives_the_purchase_behind_a_landing_page_token(client, publisher, sub, admin):
    auth = bearer(publisher)
    request_id = str(uuid.uuid4())
    response = client.post(
        f"{BASE}/resolve{V}",
        headers={
            **auth,
            "x-ms-marketplace-token": marketplace_token(sub),
            "x-ms-requestid": request_id,
        },
    )
    assert response.status_code == 200
    assert response["x-ms-requestid"] == request_id
    uuid.UUID(response["x-ms-correlationid"])  # made up when the caller sent none
    body = response.json()
    assert (body["id"], body["offerId"], body["planId"], body["quantity"]) == (
        str(sub.uuid),
        "ledger-pro",
        "team",
        5,
    )
    inner = body["subscription"]
    assert inner["saasSubscriptionStatus"] == "PendingFulfillmentStart"
    assert inner["purchaser"]["emailId"] == admin.email
    assert inner["beneficiary"]["tenantId"] == str(sub.tenant.uuid)
    assert inner["term"] == {"startDate": None, "endDate": None, "termUnit": "P1M"}
    assert inner["allowedCustomerOperations"] == ["Read", "Update", "Delete"]
    assert (inner["sessionMode"], inner["sandboxType"], inner["isTest"]) == ("None", "None", False)


def test_resolve_refuses_a_missing_forged_or_another_publishers_token(client, publisher, sub):
    token = marketplace_token(sub)
    other = PublisherFactory()
    for headers in (
        bearer(publisher),
        {**bearer(publisher), "x-ms-marketplace-token": "forged"},
        {**bearer(other), "x-ms-marketplace-token": token},
    ):
        response = client.post(f"{BASE}/resolve{V}", headers=headers)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "BadRequest"


def test_a_token_of_an_app_that_moved_to_another_publisher_resolves_for_neither(
    client, publisher, sub
):
    token = marketplace_token(sub)
    app = sub.plan.app
    app.publisher = PublisherFactory()
    app.save()
    for caller in (publisher, app.publisher):
        response = client.post(
            f"{BASE}/resolve{V}", headers={**bearer(caller), "x-ms-marketplace-token": token}
        )
        assert response.status_code == 400, caller


def test_activate_with_the_purchases_plan_and_quantity_starts_billing(client, publisher, sub):
    auth = bearer(publisher)
    wrong = [
        {"planId": "other", "quantity": 5},
        {"planId": "team", "quantity": 6},
        {"planId": "other"},
        {"quantity": 5},
        {"planId": "team", "quantity": 0},
        {"planId": "team", "quantity": "five"},
        {"planId": "team", "quantity": "6"},
        {"planId": "team", "quantity": "0005"},
    ]
    for body in wrong:
        response = client.post(
            f"{BASE}/{sub.uuid}/activate{V}", body, content_type="application/json", headers=auth
        )
        assert response.status_code == 400, body
        assert "error" in response.json()
    assert Subscription.objects.get().status == Status.PENDING_ACTIVATION
    response = client.post(  # as Microsoft's documentation has it: the plan only
        f"{BASE}/{sub.uuid}/activate/{V}",
        {"planId": "team", "quantity": ""},
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 200 and response.content == b""
    sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    charge = Charge.objects.get()
    assert (charge.kind, charge.amount) == (ChargeKind.PURCHASE, 4500)
    event = AuditEvent.objects.get(verb="subscription.activate")
    assert (event.actor_type, event.actor_label) == ("publisher", "Quillfeather Labs")
    again = client.post(
        f"{BASE}/{sub.uuid}/activate{V}",
        {"planId": "team", "quantity": 5},
        content_type="application/json",
        headers=auth,
    )
    assert again.status_code == 400  # not pending any more; charged once
    assert Charge.objects.count() == 1
    got = client.get(f"{BASE}/{sub.uuid}{V}", headers=auth).json()
    assert got["saasSubscriptionStatus"] == "Subscribed"
    assert got["term"]["startDate"] == sub.term_start.isoformat()


def test_a_publisher_sees_only_its_own_subscriptions(client, publisher, sub):
    other = bearer(PublisherFactory())
    assert client.get(f"{BASE}/{sub.uuid}{V}", headers=other).status_code == 404
    activate = client.post(
        f"{BASE}/{sub.uuid}/activate{V}",
        {"planId": "team", "quantity": 5},
        content_type="application/json",
        headers=other,
    )
    assert activate.status_code == 404
    assert client.get(f"{BASE}/{uuid.uuid4()}{V}", headers=bearer(publisher)).status_code == 404
    assert client.get(f"{BASE}/not-a-uuid{V}", headers=bearer(publisher)).status_code == 404
    assert Subscription.objects.get().status == Status.PENDING_ACTIVATION


def test_every_refusal_is_json_and_changes_nothing(client, publisher, sub):
    auth = bearer(publisher)
    url = f"{BASE}/{sub.uuid}"
    cases = [
        (client.get(url + V), 401),  # no token
        (client.get(url + V, headers={"Authorization": "Bearer forged"}), 401),
        (client.get(url, headers=auth), 400),  # no api-version
        (client.get(url + "?api-version=2022-01-01", headers=auth), 400),
        (client.delete(f"{BASE}/resolve{V}", headers=auth), 405),
        (
            client.post(f"{url}/activate{V}", "{", content_type="application/json", headers=auth),
            400,
        ),
        (
            client.post(
                f"{url}/activate{V}",
                json.dumps({"planId": "team", "x": "y" * 70_000}),
                content_type="application/json",
                headers=auth,
            ),
            413,
        ),
    ]
    for response, status in cases:
        assert response.status_code == status
        assert set(response.json()["error"]) == {"code", "message"}
    assert Subscription.objects.get().status == Status.PENDING_ACTIVATION
    services.subscription_cancel(subscription=sub, actor=Actor.system())
    unsubscribed = client.post(
        f"{url}/activate{V}",
        {"planId": "team", "quantity": 5},
        content_type="application/json",
        headers=auth,
    )
    assert unsubscribed.status_code == 404


def test_what_is_no_endpoint_or_too_big_to_read_still_answers_in_json(client, publisher, sub):
    auth = bearer(publisher)
    for path in ("/api/saas/", "/api/saas/subscriptions/x/y", "/api/nothing"):
        response = client.get(path + V, headers=auth)
        assert response.status_code == 404 and response.json()["error"]["code"] == "NotFound"
    huge = client.post(
        f"{BASE}/{sub.uuid}/activate{V}",
        b"x" * 3_000_000,
        content_type="application/json",
        headers=auth,
    )
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "PayloadTooLarge"
    head = client.head(f"{BASE}/{sub.uuid}{V}", headers=auth)
    assert head.status_code == 200
    request_id = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
    echoed = client.get(f"{BASE}/{sub.uuid}{V}", headers={**auth, "x-ms-requestid": request_id})
    assert echoed["x-ms-requestid"] == request_id  # as sent
    for odd in ("{" + request_id + "}", "urn:uuid:" + request_id, request_id.replace("-", "")):
        made_up = client.get(f"{BASE}/{sub.uuid}{V}", headers={**auth, "x-ms-requestid": odd})
        assert made_up["x-ms-requestid"] != odd  # not a GUID as clients spell one: a new one
    deep = client.patch(
        f"{BASE}/{sub.uuid}{V}", "[" * 10_000, content_type="application/json", headers=auth
    )
    assert deep.status_code == 400 and deep.json()["error"]["code"] == "BadRequest"
    nul = client.patch(
        f"{BASE}/{sub.uuid}{V}",
        {"planId": "a\u0000b"},
        content_type="application/json",
        headers=auth,
    )
    assert nul.status_code == 400
    assert client.post("/api/openapi.json").json()["error"]["code"] == "MethodNotAllowed"
    assert client.head("/api/openapi.json").status_code == 200


def test_the_list_pages_every_status_by_nextlink_and_holds_only_the_callers_own(
    client, publisher, tenant, settings, django_assert_max_num_queries
):
    from urllib.parse import urlsplit

    settings.PORTAL_BASE_URL = "https://portal.example"
    plan = PlanFactory(app=AppFactory(publisher=publisher), prices={"USD": 900})
    profile = BillingProfileFactory(tenant=tenant)
    mine = SubscriptionFactory.create_batch(230, billing_profile=profile, plan=plan)
    services.subscription_cancel(subscription=mine[0], actor=Actor.system())
    SubscriptionFactory.create_batch(5, billing_profile=profile)  # another publisher's
    auth = bearer(publisher)
    seen, url, pages = [], f"{BASE}{V}", 0
    while url:
        # Per page: the secret, the publisher's plans, the page's ids, its rows, beneficiaries.
        with django_assert_max_num_queries(5):
            response = client.get(url, headers=auth)
        assert response.status_code == 200
        body = response.json()
        seen += [row["id"] for row in body["subscriptions"]]
        pages += 1
        link = body.get("@nextLink")
        assert link is None or link.startswith("https://portal.example/api/saas/subscriptions?")
        url = link and link.removeprefix("https://portal.example")
        assert url is None or "api-version=2018-08-31" in urlsplit(url).query
    assert pages == 3 and seen == [str(s.uuid) for s in sorted(mine, key=lambda s: s.pk)]
    assert client.get(f"{BASE}/{V}", headers=auth).status_code == 200  # the trailing slash
    forged = client.get(f"{BASE}{V}&continuationToken=abc", headers=auth)
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "BadRequest"
    first_next = client.get(f"{BASE}{V}", headers=auth).json()["@nextLink"]
    theirs = client.get(
        first_next.removeprefix("https://portal.example"), headers=bearer(PublisherFactory())
    )
    assert theirs.status_code == 400  # another publisher's continuationToken is none of its


def test_available_plans_are_the_apps_plans_the_customer_can_see(client, publisher, sub, tenant):
    from tests.factories import TenantFactory

    PlanFactory(app=sub.plan.app, plan_id="old", is_stop_sell=True)
    hidden = PlanFactory(app=sub.plan.app, plan_id="theirs", is_private=True)
    hidden.allowed_tenants.add(TenantFactory())
    PlanFactory(app=sub.plan.app, plan_id="yearly", term="P1Y")  # another term
    PlanFactory(app=sub.plan.app, plan_id="euro", prices={"EUR": 800})  # not in USD
    body = client.get(f"{BASE}/{sub.uuid}/listAvailablePlans{V}", headers=bearer(publisher))
    plans = {plan["planId"]: plan for plan in body.json()["plans"]}
    assert set(plans) == {"team", "old"}
    assert plans["old"]["isStopSell"] is True and plans["team"]["market"] == "US"
    assert set(plans["team"]) == {
        "planId",
        "displayName",
        "isPrivate",
        "description",
        "minQuantity",
        "maxQuantity",
        "hasFreeTrials",
        "isPricePerSeat",
        "isStopSell",
        "market",
    }
    other = client.get(
        f"{BASE}/{sub.uuid}/listAvailablePlans{V}", headers=bearer(PublisherFactory())
    )
    assert other.status_code == 404


def test_the_publisher_deletes_a_subscription_and_its_operation_says_so(
    client, publisher, sub, settings
):
    from subscriptions.lifecycle import DisabledReason

    settings.PORTAL_BASE_URL = "https://portal.example"
    sub = services.subscription_activate(subscription=sub, actor=Actor.system())
    auth = bearer(publisher)
    assert (
        client.delete(f"{BASE}/{sub.uuid}{V}", headers=bearer(PublisherFactory())).status_code
        == 404
    )
    response = client.delete(f"{BASE}/{sub.uuid}{V}", headers=auth)
    assert response.status_code == 202
    location = response["Operation-Location"]
    assert location.startswith(f"https://portal.example{BASE}/{sub.uuid}/operations/")
    assert location.endswith("?api-version=2018-08-31")
    sub.refresh_from_db()
    assert (sub.status, sub.disabled_reason) == (Status.DISABLED, DisabledReason.CANCELED)
    assert Charge.objects.filter(amount__lt=0).exists()  # within 72 hours: credited
    event = AuditEvent.objects.get(verb="subscription.cancel")
    assert (event.actor_type, event.actor_label) == ("publisher", "Quillfeather Labs")
    operation = client.get(location.removeprefix("https://portal.example"), headers=auth).json()
    assert (operation["action"], operation["status"], operation["subscriptionId"]) == (
        "Unsubscribe",
        "Succeeded",
        str(sub.uuid),
    )
    assert set(operation) >= {"id", "activityId", "offerId", "publisherId", "planId", "timeStamp"}
    assert client.get(f"{BASE}/{sub.uuid}/operations{V}", headers=auth).json() == {
        "operations": []  # nothing waits for the publisher's answer
    }
    assert client.get(f"{BASE}/{sub.uuid}{V}", headers=auth).json()["saasSubscriptionStatus"] == (
        "Unsubscribed"
    )
    assert client.delete(f"{BASE}/{sub.uuid}{V}", headers=auth).status_code == 400
    unknown = client.get(f"{BASE}/{sub.uuid}/operations/{uuid.uuid4()}{V}", headers=auth)
    assert unknown.status_code == 404
    other = client.get(
        location.removeprefix("https://portal.example"), headers=bearer(PublisherFactory())
    )
    assert other.status_code == 404


def test_the_publisher_changes_the_quantity_at_once_charged_or_credited(client, publisher, sub):
    import datetime

    from django.utils import timezone

    began = timezone.now() - datetime.timedelta(days=10)  # past the portal's 7-day window
    sub = services.subscription_activate(subscription=sub, actor=Actor.system(), now=began)
    auth = bearer(publisher)

    def patch(body):
        return client.patch(
            f"{BASE}/{sub.uuid}{V}", body, content_type="application/json", headers=auth
        )

    for body in ({}, {"planId": "team", "quantity": 6}, {"quantity": 0}, {"quantity": 5}):
        response = patch(body)
        assert response.status_code == 400, body
    assert patch({"planId": "other"}).json()["error"]["message"] == "The app has no plan 'other'."
    up = patch({"quantity": 8})
    assert up.status_code == 202 and "/operations/" in up["Operation-Location"]
    sub.refresh_from_db()
    assert sub.quantity == 8
    assert Charge.objects.filter(kind=ChargeKind.ADD_QUANTITY, amount__gt=0).count() == 1
    down = patch({"quantity": 3})  # the publisher decided: now, with a credit
    assert down.status_code == 202
    sub.refresh_from_db()
    assert (sub.quantity, sub.scheduled_quantity) == (3, None)
    credits = Charge.objects.filter(kind=ChargeKind.REMOVE_QUANTITY)
    assert credits.exists() and all(credit.amount < 0 for credit in credits)  # per charge
    operations = sub.operations.order_by("created_at")
    assert [(o.action, o.status, o.quantity) for o in operations] == [
        ("ChangeQuantity", "Succeeded", 8),
        ("ChangeQuantity", "Succeeded", 3),
    ]
    event = AuditEvent.objects.filter(verb="subscription.change_quantity").first()
    assert event.actor_type == "publisher"
    shown = client.get(f"{BASE}/{sub.uuid}{V}", headers=auth).json()
    assert shown["lastModified"] == operations.last().updated_at.isoformat().replace("+00:00", "Z")
    services.subscription_suspend(subscription=sub, actor=Actor.system())
    assert patch({"quantity": 4}).status_code == 400  # only a Subscribed one changes


def test_the_publisher_moves_a_subscription_to_another_plan_charging_the_difference(
    client, publisher, sub
):
    import datetime

    from django.utils import timezone

    from billing.proration import prorate
    from publishers.models import Term

    app = sub.plan.app
    pro = PlanFactory(app=app, plan_id="pro", prices={"USD": 1500})
    PlanFactory(app=app, plan_id="yearly", term=Term.ANNUAL, prices={"USD": 9000})
    PlanFactory(app=app, plan_id="old", is_stop_sell=True, prices={"USD": 800})
    PlanFactory(app=app, plan_id="euro", prices={"EUR": 800})
    PlanFactory(app=app, plan_id="small", max_quantity=3, prices={"USD": 500})
    PlanFactory(plan_id="elsewhere", prices={"USD": 100})  # another app's
    began = timezone.now() - datetime.timedelta(days=10)
    sub = services.subscription_activate(subscription=sub, actor=Actor.system(), now=began)
    auth = bearer(publisher)

    def patch(plan_id):
        return client.patch(
            f"{BASE}/{sub.uuid}{V}",
            {"planId": plan_id},
            content_type="application/json",
            headers=auth,
        )

    for plan_id in ("team", "yearly", "old", "euro", "small", "elsewhere"):
        response = patch(plan_id)
        assert response.status_code == 400, plan_id
    assert Charge.objects.filter(kind=ChargeKind.CHANGE_PLAN).count() == 0
    up = patch("pro")
    assert up.status_code == 202
    sub.refresh_from_db()
    assert (sub.plan, sub.unit_amount) == (pro, 1500)
    term = {"term_start": sub.term_start, "term_end": sub.term_end, "on": timezone.now().date()}
    upgrade = Charge.objects.get(kind=ChargeKind.CHANGE_PLAN)
    assert upgrade.amount == prorate(7500, **term) - prorate(4500, **term) > 0
    assert patch("team").status_code == 202  # back: the difference credited
    downgrade = Charge.objects.filter(kind=ChargeKind.CHANGE_PLAN).latest("pk")
    assert downgrade.amount == -upgrade.amount
    assert [(o.action, o.plan_id) for o in sub.operations.order_by("created_at")] == [
        ("ChangePlan", "pro"),
        ("ChangePlan", "team"),
    ]
    assert client.get(f"{BASE}/{sub.uuid}{V}", headers=auth).json()["planId"] == "team"
    event = AuditEvent.objects.filter(verb="subscription.change_plan").first()
    assert event.actor_type == "publisher" and event.data["to"] in ("Team", sub.plan.name)


def test_a_cancel_after_a_cheaper_plan_gives_back_no_more_than_was_paid(client, publisher, sub):
    from django.db.models import Sum

    PlanFactory(app=sub.plan.app, plan_id="lite", prices={"USD": 100})
    sub = services.subscription_activate(subscription=sub, actor=Actor.system())
    auth = bearer(publisher)
    down = client.patch(
        f"{BASE}/{sub.uuid}{V}", {"planId": "lite"}, content_type="application/json", headers=auth
    )
    assert down.status_code == 202
    assert Charge.objects.get(kind=ChargeKind.CHANGE_PLAN).amount < 0
    assert client.delete(f"{BASE}/{sub.uuid}{V}", headers=auth).status_code == 202
    # Within 72 hours of activation all that was paid comes back: exactly that, no more.
    assert Charge.objects.aggregate(net=Sum("amount"))["net"] == 0


def test_a_plan_change_keeps_a_decrease_scheduled_for_the_renewal_within_the_new_plans_bounds(
    client, publisher, sub
):
    import datetime

    from django.utils import timezone

    PlanFactory(app=sub.plan.app, plan_id="big", min_quantity=5, prices={"USD": 700})
    began = timezone.now() - datetime.timedelta(days=10)
    sub = services.subscription_activate(subscription=sub, actor=Actor.system(), now=began)
    services.subscription_change_quantity(subscription=sub, quantity=3, actor=Actor.system())
    sub.refresh_from_db()
    assert sub.scheduled_quantity == 3
    response = client.patch(
        f"{BASE}/{sub.uuid}{V}",
        {"planId": "big"},
        content_type="application/json",
        headers=bearer(publisher),
    )
    assert response.status_code == 400
    assert "is set to renew with 3" in response.json()["error"]["message"]
    strict = client.patch(
        f"{BASE}/{sub.uuid}{V}",
        {"quantity": "6"},
        content_type="application/json",
        headers=bearer(publisher),
    )
    assert strict.status_code == 400  # a number, not a string


def _waiting(sub, quantity=6, *, minutes_ago=0):
    """A customer's change waiting for the publisher's answer, as the "Webhooks and
    operations" issue will make them."""
    from datetime import timedelta

    from django.utils import timezone

    from subscriptions.models import Operation, OperationSource, OperationStatus

    moment = timezone.now() - timedelta(minutes=minutes_ago)
    return Operation.objects.create(
        subscription=sub,
        action="ChangeQuantity",
        status=OperationStatus.IN_PROGRESS,
        source=OperationSource.CUSTOMER,
        plan_id=sub.plan.plan_id,
        quantity=quantity,
        created_at=moment,
        updated_at=moment,
    )


def test_the_publisher_answers_a_waiting_operation_once(client, publisher, sub):
    sub = services.subscription_activate(subscription=sub, actor=Actor.system())
    auth = bearer(publisher)
    operation = _waiting(sub)
    url = f"{BASE}/{sub.uuid}/operations/{operation.uuid}{V}"
    listed = client.get(f"{BASE}/{sub.uuid}/operations{V}", headers=auth).json()["operations"]
    assert [(o["id"], o["status"], o["quantity"]) for o in listed] == [
        (str(operation.uuid), "InProgress", 6)
    ]
    other = client.patch(
        url,
        {"status": "Success"},
        content_type="application/json",
        headers=bearer(PublisherFactory()),
    )
    assert other.status_code == 404
    # Microsoft's sample sends the quantity as a string; a wrong one is refused.
    wrong = client.patch(
        url,
        {"status": "Success", "planId": "team", "quantity": "7"},
        content_type="application/json",
        headers=auth,
    )
    assert (
        wrong.status_code == 400 and "must be the operation's" in wrong.json()["error"]["message"]
    )
    for body in ({"status": "Done"}, {}, {"status": "Success", "quantity": 0}):
        refused = client.patch(url, body, content_type="application/json", headers=auth)
        assert refused.status_code == 400, body
    operation.refresh_from_db()
    assert operation.status == "InProgress"

    answered = client.patch(
        url,
        {"status": "Success", "planId": "team", "quantity": "6"},
        content_type="application/json",
        headers=auth,
    )
    assert answered.status_code == 200
    assert client.get(url, headers=auth).json()["status"] == "Succeeded"
    assert client.get(f"{BASE}/{sub.uuid}/operations{V}", headers=auth).json() == {"operations": []}
    again = client.patch(url, {"status": "Failure"}, content_type="application/json", headers=auth)
    assert again.status_code == 400 and again.json()["error"]["code"] == "BadRequest"
    operation.refresh_from_db()
    assert operation.status == "Succeeded"


def test_a_newer_completed_operation_makes_an_older_answer_a_conflict(client, publisher, sub):
    sub = services.subscription_activate(subscription=sub, actor=Actor.system())
    auth = bearer(publisher)
    older = _waiting(sub, 6, minutes_ago=5)
    newer = _waiting(sub, 7)
    assert (
        client.patch(
            f"{BASE}/{sub.uuid}/operations/{newer.uuid}{V}",
            {"status": "Failure"},
            content_type="application/json",
            headers=auth,
        ).status_code
        == 200
    )
    late = client.patch(
        f"{BASE}/{sub.uuid}/operations/{older.uuid}/{V}",
        {"status": "Success"},
        content_type="application/json",
        headers=auth,
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "Conflict"
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.status) == ("InProgress", "Failed")


def test_a_quantity_may_come_as_digits_as_microsofts_samples_send_it():
    from subscriptions.api.schemas import ActivateIn, OperationPatchIn

    assert ActivateIn.model_validate({"planId": "team", "quantity": "5"}).quantity == 5
    assert ActivateIn.model_validate({"planId": "team", "quantity": ""}).quantity is None
    answer = OperationPatchIn.model_validate({"status": "Success", "quantity": "10000"})
    assert answer.quantity == 10_000
    for odd in ("0044", "10001", "5 ", "\u0665", "-1"):
        with pytest.raises(ValueError):
            ActivateIn.model_validate({"planId": "team", "quantity": odd})


def test_a_newer_completed_operation_wins_over_a_wrong_body(client, publisher, sub):
    sub = services.subscription_activate(subscription=sub, actor=Actor.system())
    auth = bearer(publisher)
    older = _waiting(sub, 6, minutes_ago=5)
    newer = _waiting(sub, 7)
    newer.status = "Failed"
    newer.save()
    late = client.patch(
        f"{BASE}/{sub.uuid}/operations/{older.uuid}{V}",
        {"status": "Success", "quantity": 99},
        content_type="application/json",
        headers=auth,
    )
    assert late.status_code == 409  # the conflict is checked first


def test_the_publisher_may_decrease_to_the_number_the_customer_scheduled(client, publisher, sub):
    sub = services.subscription_activate(subscription=sub, actor=Actor.system())
    Subscription.objects.filter(pk=sub.pk).update(quantity=10, scheduled_quantity=5)
    response = client.patch(
        f"{BASE}/{sub.uuid}{V}",
        {"quantity": 5},
        content_type="application/json",
        headers=bearer(publisher),
    )
    assert response.status_code == 202
    sub.refresh_from_db()
    assert (sub.quantity, sub.scheduled_quantity) == (5, None)
    assert Charge.objects.filter(kind=ChargeKind.REMOVE_QUANTITY, amount__lt=0).exists()
