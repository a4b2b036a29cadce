import csv
import io
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from portal.audit import Actor, audit_record
from portal.models import AuditEvent, Membership
from tests.factories import BillingProfileFactory

URL = "/t/contoso/settings/audit-log/"


@pytest.fixture
def events(tenant, other_tenant):
    audit_record(tenant=tenant, actor=Actor.system("alice@contoso.example"), verb="member.add")
    audit_record(tenant=tenant, actor=Actor.system("bob@contoso.example"), verb="member.remove")
    audit_record(tenant=other_tenant, actor=Actor.system("eve@fabrikam.example"), verb="secret")


@pytest.mark.parametrize(
    ("persona", "status"),
    [("admin", 200), ("reader", 200), ("billing_admin", 403), ("member", 403)],
)
def test_who_may_read_the_audit_log(request, login, tenant, persona, status):
    assert login(request.getfixturevalue(persona)).get(URL).status_code == status


def test_newest_first_and_only_this_tenants_events(login, tenant, admin, events):
    page = login(admin).get(URL)
    verbs = [e.verb for e in page.context["page"]]
    assert verbs == ["member.remove", "member.add"]
    assert b"eve@fabrikam.example" not in page.content


def test_filter_by_actor_and_verb(login, tenant, admin, events):
    client = login(admin)
    by_actor = client.get(URL, {"actor": "alice"})
    assert [e.verb for e in by_actor.context["page"]] == ["member.add"]
    by_verb = client.get(URL, {"verb": "member.remove"})
    assert [e.actor_label for e in by_verb.context["page"]] == ["bob@contoso.example"]


def test_filter_by_date(login, tenant, admin, events):
    today = timezone.now().date()
    client = login(admin)
    assert len(client.get(URL, {"date_from": today}).context["page"]) == 2
    assert len(client.get(URL, {"date_to": today - timedelta(days=1)}).context["page"]) == 0


def test_a_backwards_date_range_is_a_field_error(login, tenant, admin, events):
    today = timezone.now().date()
    response = login(admin).get(URL, {"date_from": today, "date_to": today - timedelta(days=2)})
    assert b"The end date is before the start date." in response.content


def test_paginated_by_fifty(login, tenant, admin):
    for i in range(60):
        audit_record(tenant=tenant, actor=Actor.system(), verb=f"bulk.{i}")
    client = login(admin)
    first = client.get(URL)
    assert len(first.context["page"]) == 50
    assert b"Page 1 of 2" in first.content
    second = client.get(URL, {"page": 2})
    assert len(second.context["page"]) == 10


def test_htmx_filter_answers_with_the_filters_and_events_region(login, tenant, admin, events):
    response = login(admin).get(
        URL, {"verb": "member.add"}, headers={"HX-Request": "true", "HX-Target": "audit"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="audit">')
    assert "alice@contoso.example" in html
    assert "bob@contoso.example" not in html
    assert "HX-Request" in response["Vary"]  # the partial and the page are cached apart


def test_invalid_filters_show_the_error_and_no_events(login, tenant, admin, events):
    today = timezone.now().date()
    response = login(admin).get(
        URL,
        {"date_from": today, "date_to": today - timedelta(days=1)},
        headers={"HX-Request": "true", "HX-Target": "audit"},
    )
    html = response.content.decode()
    assert "The end date is before the start date." in html
    assert len(response.context["page"]) == 0
    assert "alice@contoso.example" not in html


def test_audit_log_queries_do_not_grow_with_events(
    login, tenant, admin, django_assert_max_num_queries
):
    for i in range(40):
        audit_record(tenant=tenant, actor=Actor.system(), verb=f"bulk.{i % 3}")
    client = login(admin)
    with django_assert_max_num_queries(11):  # session, user, tenant, membership, page: fixed
        assert client.get(URL).status_code == 200


def test_audit_events_are_append_only(tenant, events):
    event = AuditEvent.objects.filter(tenant=tenant).first()
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_to_rewrite_history(tenant, events):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(tenant=tenant).update(verb="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(tenant=tenant).delete()


def test_actions_targets_and_changes_read_in_words(login, tenant, admin):
    actor = Actor.system("ada@contoso.example")
    audit_record(
        tenant=tenant,
        actor=actor,
        verb="member.change_role",
        target=Membership.objects.get(user=admin),
        data={"email": "bob@contoso.example", "from": "reader", "to": "billing_admin"},
    )
    audit_record(
        tenant=tenant,
        actor=actor,
        verb="billing_profile.change",
        target=BillingProfileFactory(tenant=tenant, name="Contoso HQ"),
        data={"profile": "Contoso HQ", "changed": ["po_number", "tax_id"]},
    )
    audit_record(
        tenant=tenant,
        actor=actor,
        verb="billing_profile.stripe_customer",
        data={"profile": "Contoso HQ", "customer": "cus_Q1w2e3r4"},
    )
    audit_record(
        tenant=tenant,
        actor=actor,
        verb="billing_profile.role_grant",
        data={
            "profile": "Contoso HQ",
            "email": "eve@contoso.example",
            "role": "reader",
            "from": None,
        },
    )
    html = login(admin).get(URL).content.decode()
    assert "Member&#x27;s role changed" in html
    assert "Reader → Billing admin" in html
    assert "bob@contoso.example" in html
    assert "Billing profile changed" in html and "Contoso HQ" in html
    assert "Changed: PO number, Tax id" in html
    assert "Billing profile connected to Stripe" in html
    for programmer_output in ("cus_", "po_number", "None", "changed:", "[&#x27;", "from:"):
        assert programmer_output not in html
    assert 'title="' in html and " UTC" in html and "<time datetime=" in html
    assert "js/local-time.js" in html


def test_every_verb_a_service_writes_has_words():
    import re
    from pathlib import Path

    from portal.audit import ACTIONS

    written = set()
    for app in ("portal", "billing", "publishers", "subscriptions"):
        for path in Path(app).rglob("*.py"):
            text = path.read_text()
            written |= set(re.findall(r'verb="([a-z_]+\.[a-z_]+)"', text))
            written |= set(re.findall(r'actor, "([a-z_]+\.[a-z_]+)"', text))
            written |= set(re.findall(r'\n\s+"([a-z_]+\.[a-z_]+)",\n\s+\{', text))
    assert written and written <= set(ACTIONS), written - set(ACTIONS)


def test_an_unknown_verb_reads_as_itself():
    from portal.audit import action_words

    assert action_words("subscription.quantity_change") == "Subscription quantity change"


def test_the_action_filter_lists_actions_in_words(login, tenant, admin, events):
    html = login(admin).get(URL).content.decode()
    assert '<option value="member.add">Member added</option>' in html


def test_csv_export_of_the_filtered_list(login, tenant, admin, events, reader, member):
    audit_record(
        tenant=tenant,
        actor=Actor.system("=HYPERLINK(evil)"),
        verb="member.add",
        data={"email": "@carl@contoso.example"},
    )
    response = login(admin).get(URL + "export.csv", {"verb": "member.add"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Time (UTC)", "Actor", "Action", "Target", "Details", "IP address"]
    assert len(rows) == 3  # member.add twice; not member.remove, not the other tenant's
    assert rows[1][1] == "'=HYPERLINK(evil)" and rows[1][3].startswith("'@carl")
    assert rows[2][2] == "Member added" and rows[2][0].endswith("Z")
    assert login(member).get(URL + "export.csv").status_code == 403


def test_operator_records_have_no_tenant_and_stay_append_only(db):
    event = audit_record(tenant=None, actor=Actor.system("ops"), verb="publisher.change")
    assert AuditEvent.objects.operator().get() == event
    with pytest.raises(ValueError):
        AuditEvent.objects.for_tenant(None)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.operator().update(verb="forged")


@pytest.mark.parametrize(
    "value", ["=1+1", " =HYPERLINK(1)", "+1", "-1", "@SUM(1)", ";x", "\uff1d1", "\tx"]
)
def test_a_csv_cell_a_spreadsheet_would_run_is_quoted(value):
    from portal.exports import csv_cell

    assert csv_cell(value) == "'" + value


def test_an_ordinary_csv_cell_is_left_alone():
    from portal.exports import csv_cell

    assert csv_cell("Contoso HQ") == "Contoso HQ"
