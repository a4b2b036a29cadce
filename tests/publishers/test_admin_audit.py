"""Operator-side audit: webhook-secret rotation, recorded without the secret."""

import pytest

from portal.models import AuditEvent
from tests.factories import PlanFactory, PublisherFactory, UserFactory


@pytest.fixture
def operator(db):
    return UserFactory(email="ops@operator.example", is_staff=True, is_superuser=True)


def test_webhook_secret_rotation_is_audited_without_the_secret(login, operator):
    publisher = PublisherFactory()
    old = publisher.webhook_secret
    client = login(operator)
    response = client.post(
        "/admin/publishers/publisher/",
        {"action": "rotate_webhook_secret", "_selected_action": [publisher.pk]},
    )
    assert response.status_code == 302
    publisher.refresh_from_db()
    assert publisher.webhook_secret != old
    event = AuditEvent.objects.operator().get(verb="publisher.webhook_secret_rotate")
    assert event.actor_user == operator
    assert event.data == {"name": publisher.name}
    assert "whsec_" not in str(event.data)
    listing = client.get("/admin/portal/auditevent/", {"scope": "operator"}).content.decode()
    assert "Webhook secret rotated" in listing and "Operator" in listing


def test_a_catalog_edit_in_the_admin_records_who_and_old_to_new(login, operator):
    publisher = PublisherFactory(name="Quill", city="Leeds")
    client = login(operator)
    page = client.get(f"/admin/publishers/publisher/{publisher.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["contact_emails"] = "[]"
    data.update(
        {
            "city": "York",
            "secrets-TOTAL_FORMS": "0",
            "secrets-INITIAL_FORMS": "0",
            "apps-TOTAL_FORMS": "0",
            "apps-INITIAL_FORMS": "0",
        }
    )
    response = client.post(f"/admin/publishers/publisher/{publisher.pk}/change/", data)
    assert response.status_code == 302
    event = AuditEvent.objects.operator().get(verb="publisher.change")
    assert event.actor_user == operator
    assert event.data["changes"] == {"city": ["Leeds", "York"]}
    listing = client.get("/admin/portal/auditevent/").content.decode()
    assert "Publisher changed" in listing and "City: Leeds → York" in listing


def test_a_catalog_delete_in_the_admin_is_recorded(login, operator):
    plan = PlanFactory()
    client = login(operator)
    response = client.post(f"/admin/publishers/plan/{plan.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    event = AuditEvent.objects.operator().get(verb="plan.delete")
    assert event.data == {"name": str(plan)} and event.actor_user == operator
