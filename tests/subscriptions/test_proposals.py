"""Proposals: operator staff offer negotiated prices in the Django admin; the tenant's admins
accept one with a billing profile (one subscription per line) or decline it."""

import datetime

import pytest

from billing.models import ProfileRole
from portal.models import AuditEvent
from publishers.models import PricingModel
from subscriptions.lifecycle import Status
from subscriptions.models import BoughtVia, Proposal, ProposalLine, ProposalStatus, Subscription
from tests.factories import (
    AppFactory,
    BillingProfileFactory,
    BillingProfileRoleFactory,
    PlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
FUTURE = datetime.date(2099, 1, 1)


@pytest.fixture
def profile(tenant):
    return BillingProfileFactory(tenant=tenant, name="Contoso HQ", is_default=True)


@pytest.fixture
def proposal(tenant):
    made = Proposal.objects.create(tenant=tenant, title="Finance bundle", expires_on=FUTURE)
    seats = PlanFactory(app=AppFactory(name="Ledger Pro"), prices={"USD": 900})
    flat = PlanFactory(
        app=AppFactory(name="Board", pricing_model=PricingModel.FLAT_RATE),
        prices={"USD": 12000},
    )
    ProposalLine.objects.create(proposal=made, plan=seats, quantity=20, unit_amount=700)
    ProposalLine.objects.create(proposal=made, plan=flat, unit_amount=10000)
    return made


def url(proposal, rest=""):
    return f"/t/{proposal.tenant.slug}/billing/proposals/{proposal.uuid}/{rest}"


def test_an_admin_accepts_a_proposal_and_buys_each_line_at_its_price(
    login, admin, profile, proposal
):
    client = login(admin)
    page = client.get(url(proposal)).content.decode()
    assert "$140.00" in page and "<s>$180.00</s>" in page  # 20 x $7.00, list 20 x $9.00
    assert "$240.00" in page  # every term, all apps
    response = client.post(
        url(proposal, "accept/"), {"billing_profile": profile.uuid, "agree": "on", "revision": 1}
    )
    assert response.status_code == 302
    bought = Subscription.objects.order_by("name")
    assert [(s.name, s.quantity, s.unit_amount, s.bought_via, s.status) for s in bought] == [
        ("Board", None, 10000, BoughtVia.PROPOSAL, Status.PENDING_ACTIVATION),
        ("Ledger Pro", 20, 700, BoughtVia.PROPOSAL, Status.PENDING_ACTIVATION),
    ]
    proposal.refresh_from_db()
    assert (proposal.status, proposal.answered_by) == (ProposalStatus.ACCEPTED, admin)
    assert AuditEvent.objects.filter(verb="proposal.accept").count() == 1
    again = client.post(
        url(proposal, "accept/"), {"billing_profile": profile.uuid, "agree": "on", "revision": 1}
    )
    assert again.status_code == 302 and Subscription.objects.count() == 2


def test_an_expired_or_declined_proposal_cannot_be_accepted(login, admin, profile, proposal):
    client = login(admin)
    assert client.post(url(proposal, "decline/")).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DECLINED
    client.post(
        url(proposal, "accept/"), {"billing_profile": profile.uuid, "agree": "on", "revision": 1}
    )
    assert not Subscription.objects.exists()
    expired = Proposal.objects.create(
        tenant=proposal.tenant, title="Old", expires_on=datetime.date(2020, 1, 1)
    )
    ProposalLine.objects.create(
        proposal=expired, plan=proposal.lines.first().plan, quantity=2, unit_amount=5
    )
    page = client.get(url(expired)).content.decode()
    assert "Expired" in page and "Accept proposal" not in page
    client.post(
        url(expired, "accept/"), {"billing_profile": profile.uuid, "agree": "on", "revision": 1}
    )
    assert not Subscription.objects.exists()


def test_accepting_needs_the_agreement_and_a_profile_in_its_currency(
    login, tenant, admin, profile, proposal
):
    euro = BillingProfileFactory(tenant=tenant, country="DE")
    client = login(admin)
    no_agreement = client.post(
        url(proposal, "accept/"), {"billing_profile": profile.uuid, "revision": 1}
    )
    assert no_agreement.status_code == 422
    euro_answer = client.post(
        url(proposal, "accept/"), {"billing_profile": euro.uuid, "agree": "on", "revision": 1}
    )
    assert euro_answer.status_code == 422
    assert not Subscription.objects.exists()


def test_a_stop_sell_line_refuses_the_whole_proposal(login, admin, profile, proposal):
    line = proposal.lines.first()
    type(line.plan).objects.filter(pk=line.plan_id).update(is_stop_sell=True)
    response = login(admin).post(
        url(proposal, "accept/"), {"billing_profile": profile.uuid, "agree": "on", "revision": 1}
    )
    assert response.status_code == 422 and "isn&#x27;t on offer" in response.content.decode()
    assert not Subscription.objects.exists()
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OPEN


def test_only_the_tenants_own_admins_and_billing_admins_see_proposals(
    login, tenant, reader, member, partner_user, billing_admin, proposal, profile
):
    BillingProfileRoleFactory(profile=profile, user=member, role=ProfileRole.OWNER)
    for person in (reader, member, partner_user):
        client = login(person)
        assert client.get(f"/t/{tenant.slug}/billing/proposals/").status_code == 403
        assert client.post(url(proposal, "decline/")).status_code == 403
    assert login(billing_admin).get(url(proposal)).status_code == 200
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OPEN


def test_operator_staff_make_a_proposal_in_the_django_admin(client, tenant, proposal):
    staff = UserFactory(email="sales@marketplace.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    plan = proposal.lines.first().plan
    response = client.post(
        "/admin/subscriptions/proposal/add/",
        {
            "tenant": tenant.pk,
            "title": "Spring offer",
            "message": "",
            "expires_on": "2099-03-01",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-plan": plan.pk,
            "lines-0-quantity": "10",
            "lines-0-unit_amount": "650",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Proposal.objects.get(title="Spring offer")
    assert (made.currency, made.created_by, made.lines.get().unit_amount) == ("USD", staff, 650)
    event = AuditEvent.objects.get(verb="proposal.create")
    assert event.tenant == tenant
    bad = client.post(
        "/admin/subscriptions/proposal/add/",
        {
            "tenant": tenant.pk,
            "title": "Too many",
            "expires_on": "2099-03-01",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-plan": plan.pk,
            "lines-0-quantity": "100000",
            "lines-0-unit_amount": "650",
        },
    )
    assert bad.status_code == 200 and "Choose 1 to 500 licenses." in bad.content.decode()
    assert not Proposal.objects.filter(title="Too many").exists()


def test_the_admin_refuses_a_plan_the_tenant_cannot_buy_and_a_proposal_without_lines(
    client, tenant, other_tenant, proposal
):
    staff = UserFactory(email="ops@marketplace.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    private = PlanFactory(is_private=True)
    private.allowed_tenants.add(other_tenant)
    data = {"tenant": tenant.pk, "title": "Leaky", "expires_on": "2099-03-01"}
    lines = {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0"}
    bad = client.post(
        "/admin/subscriptions/proposal/add/",
        {
            **data,
            **lines,
            "lines-0-plan": private.pk,
            "lines-0-unit_amount": "100",
            "lines-0-quantity": "5",
        },
    )
    assert bad.status_code == 200 and "isn&#x27;t on sale to it" in bad.content.decode()
    empty = client.post(
        "/admin/subscriptions/proposal/add/",
        {**data, "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0"},
    )
    assert empty.status_code == 200
    assert not Proposal.objects.filter(title="Leaky").exists()


def test_an_admin_save_never_writes_over_the_tenants_answer(
    client, login, admin, profile, proposal
):
    staff = UserFactory(email="ops2@marketplace.example", is_staff=True, is_superuser=True)
    stale = Proposal.objects.get(pk=proposal.pk)  # what the operator's page read
    login(admin).post(url(proposal, "decline/"))
    from django.contrib.admin.sites import site
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory

    from subscriptions.admin import ProposalAdmin

    request = RequestFactory().post("/")
    request.user = staff
    stale.title = "Renamed"
    with pytest.raises(PermissionDenied):
        ProposalAdmin(Proposal, site).save_model(request, stale, None, change=True)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.title) == (ProposalStatus.DECLINED, "Finance bundle")


def test_an_accept_answers_the_revision_it_was_shown(login, admin, profile, proposal, client):
    """Operator staff changed the proposal after the admin opened it: the Accept of the old
    page buys nothing and the page shows the new one."""
    page = login(admin).get(url(proposal)).content.decode()
    assert 'name="revision" value="1"' in page
    Proposal.objects.filter(pk=proposal.pk).update(revision=2)  # as an admin save does
    ProposalLine.objects.filter(proposal=proposal, quantity=20).update(unit_amount=800)
    client = login(admin)
    answer = client.post(
        url(proposal, "accept/"),
        {"billing_profile": profile.uuid, "agree": "on", "revision": 1},
        follow=True,
    )
    assert "changed since you opened it: review it again" in answer.content.decode()
    assert 'name="revision" value="2"' in answer.content.decode()
    assert not Subscription.objects.exists()
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OPEN


def test_accepting_mails_each_apps_confirmation_and_tells_the_proposals_author(
    login, admin, profile, proposal, mailoutbox, django_capture_on_commit_callbacks
):
    author = UserFactory(email="sales@operator.example", is_staff=True)
    Proposal.objects.filter(pk=proposal.pk).update(created_by=author)
    with django_capture_on_commit_callbacks(execute=True):
        login(admin).post(
            url(proposal, "accept/"),
            {"billing_profile": profile.uuid, "agree": "on", "revision": 1},
        )
    by_subject = {message.subject: message for message in mailoutbox}
    assert sorted(by_subject) == [
        "Contoso accepted Finance bundle",
        "You bought Board: set it up in " + proposal.lines.last().plan.app.publisher.name
        + "'s portal",
        "You bought Ledger Pro: set it up in " + proposal.lines.first().plan.app.publisher.name
        + "'s portal",
    ]  # fmt: skip
    told = by_subject["Contoso accepted Finance bundle"]
    assert told.to == ["sales@operator.example"]
    assert f"/admin/subscriptions/proposal/{proposal.pk}/change/" in told.body
    assert "Every app in it was bought" in told.body
    assert all(m.to == [admin.email] for m in mailoutbox if m.subject.startswith("You bought"))


def test_declining_tells_the_proposals_author(
    login, admin, proposal, mailoutbox, django_capture_on_commit_callbacks
):
    author = UserFactory(email="sales@operator.example", is_staff=True)
    Proposal.objects.filter(pk=proposal.pk).update(created_by=author)
    with django_capture_on_commit_callbacks(execute=True):
        login(admin).post(url(proposal, "decline/"))
    [told] = mailoutbox
    assert (told.subject, told.to) == ("Contoso declined Finance bundle", [author.email])
    assert "Nothing was bought" in told.body and admin.email in told.body


def test_an_admin_save_moves_the_revision_on(proposal):
    from django.contrib.admin.sites import site
    from django.db import transaction
    from django.test import RequestFactory

    from subscriptions.admin import ProposalAdmin

    request = RequestFactory().post("/")
    request.user = UserFactory(email="ops3@marketplace.example", is_staff=True)
    edited = Proposal.objects.get(pk=proposal.pk)
    edited.title = "Finance bundle, revised"
    with transaction.atomic():
        ProposalAdmin(Proposal, site).save_model(request, edited, form=None, change=True)
    proposal.refresh_from_db()
    assert (proposal.revision, proposal.title) == (2, "Finance bundle, revised")
