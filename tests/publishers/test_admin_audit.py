"""Operator-side audit: webhook-secret rotation, recorded without the secret."""

import pytest

from portal.models import AuditEvent
from tests.factories import PublisherFactory, UserFactory


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
