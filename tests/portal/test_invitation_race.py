"""An invitation answered twice at once, or accepted while an admin cancels it: one wins."""

from functools import partial

import pytest
from django.db import connection

from portal.audit import Actor
from portal.models import AuditEvent, Invitation, Membership, Role
from portal.services import InvitationError, invitation_accept, invitation_cancel
from tests.concurrency import run_together
from tests.factories import InvitationFactory, TenantFactory, UserFactory


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.parametrize("attempt", range(3))
def test_double_accept_and_cancel_let_one_answer_through(transactional_db, attempt):
    tenant = TenantFactory()
    user = UserFactory()
    invitation = InvitationFactory(tenant=tenant, email=user.email, role=Role.READER)
    actor = Actor.system()
    errors = run_together(
        partial(invitation_accept, invitation=invitation, user=user, actor=actor),
        partial(invitation_accept, invitation=invitation, user=user, actor=actor),
        partial(invitation_cancel, invitation=invitation, actor=actor),
    )
    assert len(errors) == 2 and all(isinstance(e, InvitationError) for e in errors), errors
    invitation = Invitation.objects.get(pk=invitation.pk)
    decided = [invitation.accepted_at, invitation.canceled_at]
    assert sum(t is not None for t in decided) == 1
    members = Membership.objects.for_tenant(tenant).filter(user=user).count()
    assert members == (1 if invitation.accepted_at else 0)
    assert AuditEvent.objects.filter(verb__startswith="invitation.").count() == 1
