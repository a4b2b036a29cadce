"""The sandbox publisher: off unless enabled, seeded to play the catalog's publishers (their
landing pages and API secrets, idempotently), and the portal's link back for it."""

import pytest
from django.core.management import call_command

from portal.audit import Actor
from publishers import services
from publishers.models import Publisher, PublisherSecret
from publishers.sandbox.models import SandboxPublisher
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    MembershipFactory,
    PlanFactory,
    PublisherFactory,
    SubscriptionFactory,
    TenantFactory,
)

pytestmark = pytest.mark.django_db


def test_its_pages_are_not_there_unless_enabled(client, settings):
    PublisherFactory(slug="quillfeather")
    call_command("seed_sandbox_publishers", "--force")
    settings.SANDBOX_PUBLISHER_ENABLED = False
    assert client.get("/sandbox-publisher/quillfeather/").status_code == 404
    settings.SANDBOX_PUBLISHER_ENABLED = True
    page = client.get("/sandbox-publisher/quillfeather/")
    assert page.status_code == 200 and "Manage in publisher's portal" in page.content.decode()
    assert client.get("/sandbox-publisher/nobody/").status_code == 404
    unreachable = client.get("/sandbox-publisher/quillfeather/", {"token": "abc"})
    assert unreachable.status_code == 400  # the marketplace's API can't be reached here
    assert "Something went wrong" in unreachable.content.decode()


def test_its_client_refuses_a_header_http_cannot_carry_without_sending_anything():
    """A token with CR/LF (a crafted landing link) would split the request's headers:
    http.client refuses it before connecting, and the client says so as an ApiFailure."""
    from urllib.request import Request

    from publishers.sandbox.client import ApiFailure, Fulfillment

    api = Fulfillment("http://127.0.0.1:9/api", "id", "secret")  # nothing listens on 9
    bad = Request("http://127.0.0.1:9/api/saas/x", headers={"x-ms-marketplace-token": "a\r\nb"})
    with pytest.raises(ApiFailure, match="can't be sent"):
        api._send(bad)


def test_the_demo_catalogs_publishers_land_on_the_sandbox_of_this_portal(tenant, settings):
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8001"
    call_command("load_catalog", "--demo")
    quill = Publisher.objects.get(slug="quillfeather")
    assert quill.landing_page_url == "http://127.0.0.1:8001/sandbox-publisher/quillfeather/"


def test_seeding_gives_each_publisher_a_working_secret_once():
    bramble = PublisherFactory(slug="bramblecrest")
    PublisherFactory(slug="quillfeather")
    call_command("seed_sandbox_publishers", "--force")
    sandbox = SandboxPublisher.objects.get(slug="quillfeather")
    assert services.token_issue(client_id=sandbox.client_id, client_secret=sandbox.client_secret)
    call_command("seed_sandbox_publishers", "--force")  # again: nothing new
    assert PublisherSecret.objects.count() == 2
    services.publisher_secret_revoke(
        secret=PublisherSecret.objects.get(publisher=bramble), actor=Actor.system()
    )
    call_command("seed_sandbox_publishers", "--force")  # a secret that stopped working
    assert PublisherSecret.objects.usable().filter(publisher=bramble).count() == 1
    renewed = SandboxPublisher.objects.get(slug="bramblecrest")
    assert services.token_issue(client_id=renewed.client_id, client_secret=renewed.client_secret)


def test_the_link_back_opens_the_app_page_for_those_who_may_see_it(login, tenant, admin):
    plan = PlanFactory(app=AppFactory(name="Ledger Pro"))
    sub = SubscriptionFactory(billing_profile=BillingProfileFactory(tenant=tenant), plan=plan)
    response = login(admin).get(f"/go/apps/{sub.uuid}/")
    assert response.status_code == 302
    assert response["Location"] == f"/t/contoso/billing/products/apps/{sub.uuid}/"
    stranger = MembershipFactory(tenant=TenantFactory(slug="elsewhere")).user
    assert login(stranger).get(f"/go/apps/{sub.uuid}/").status_code == 404
    assert login(admin).get("/go/apps/00000000-0000-0000-0000-000000000000/").status_code == 404
