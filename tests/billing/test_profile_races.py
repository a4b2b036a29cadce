"""Two requests on a tenant's profiles at the same moment: the tenant lock lets one through."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from billing.models import BillingProfile
from billing.services import billing_profile_create
from portal.audit import Actor
from tests.concurrency import run_together
from tests.factories import TenantFactory

VALUES = {
    "contact_name": "Casey Contact",
    "email": "ap@example.com",
    "phone": "+1 425 555 0100",
    "address_line1": "1 Main Street",
    "city": "Redmond",
    "state": "WA",
    "postal_code": "98052",
    "country": "US",
    "invoice_emails": ["ap@example.com"],
}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.parametrize("attempt", range(3))
def test_two_first_profiles_at_once_make_one_default(transactional_db, attempt):
    tenant = TenantFactory()

    def create(name):
        return lambda: billing_profile_create(
            tenant=tenant,
            values={"name": name, **VALUES},
            payment_method="check_wire",
            actor=Actor.system(),
        )

    assert run_together(create("East"), create("West")) == []
    assert BillingProfile.objects.for_tenant(tenant).filter(is_default=True).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_the_same_name_twice_at_once_is_one_profile_and_one_field_error(transactional_db):
    tenant = TenantFactory()

    def create():
        billing_profile_create(
            tenant=tenant,
            values={"name": "Same", **VALUES},
            payment_method="check_wire",
            actor=Actor.system(),
        )

    errors = run_together(create, create)
    assert [type(e) for e in errors] == [ValidationError]
    assert "already a profile named Same" in str(errors[0])
    assert BillingProfile.objects.for_tenant(tenant).count() == 1
