"""Two admins demoted at the same moment: the lock lets only one through."""

import threading
from functools import partial

import pytest
from django.db import connection, connections

from portal.audit import Actor
from portal.models import Membership, Role
from portal.services import LastAdminError, member_change_role, member_remove
from tests.factories import MembershipFactory, TenantFactory


def race(*changes):
    """Start every change at once, each in its own thread and connection; return refusals."""
    start = threading.Barrier(len(changes))
    refused = []

    def run(change):
        start.wait()
        try:
            change()
        except LastAdminError:
            refused.append(change)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(change,)) for change in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
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
