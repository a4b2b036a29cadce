"""Two admins demoted at the same moment: the lock lets only one through."""

from functools import partial

import pytest
from django.db import connection

from portal.audit import Actor
from portal.models import Membership, Role
from portal.services import LastAdminError, member_change_role, member_remove
from tests.concurrency import run_together
from tests.factories import MembershipFactory, TenantFactory


def race(*changes):
    """Start every change at once; the refusals (LastAdminError) they met."""
    errors = run_together(*changes)
    refused = [error for error in errors if isinstance(error, LastAdminError)]
    assert refused == errors, errors  # nothing else went wrong
    return refused


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.parametrize("attempt", range(5))
def test_concurrent_demote_and_remove_leave_one_admin(transactional_db, attempt):
    tenant = TenantFactory()
    first = MembershipFactory(tenant=tenant, role=Role.ADMIN)
    second = MembershipFactory(tenant=tenant, role=Role.ADMIN)
    actor = Actor.system()
    refused = race(
        partial(member_change_role, membership=first, role=Role.READER, actor=actor),
        partial(member_remove, membership=second, actor=actor),
    )
    assert len(refused) == 1
    assert Membership.objects.for_tenant(tenant).admins().count() == 1
