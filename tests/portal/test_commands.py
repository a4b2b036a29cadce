import pytest
from django.core.management import CommandError, call_command

from portal.models import (
    AuditEvent,
    Invitation,
    Membership,
    PartnerRelationship,
    Tenant,
    User,
)
from publishers.models import App


def test_create_tenant(db, capsys):
    call_command("create_tenant", "Litware Inc", "--country", "ca")
    tenant = Tenant.objects.get(slug="litware-inc")
    assert (tenant.country, tenant.currency) == ("CA", "CAD")
    assert "Created tenant litware-inc" in capsys.readouterr().out
    assert AuditEvent.objects.get(verb="tenant.create").actor_label == "manage.py"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Litware", "--country", "JP"], "'JP' is not a supported country"),
        (["Contoso", "--country", "US", "--slug", "contoso"], "The slug 'contoso' is taken."),
        (["   ", "--country", "US"], "A tenant needs a name."),
        (["x" * 201, "--country", "US"], "at most 200 characters"),
    ],
)
def test_create_tenant_refuses_bad_input_and_changes_nothing(tenant, args, message):
    before = Tenant.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("create_tenant", *args)
    assert Tenant.objects.count() == before


def test_add_member_invites(tenant, capsys):
    call_command("add_member", "ops@contoso.example", "--tenant", "contoso", "--role", "reader")
    invitation = Invitation.objects.get(email="ops@contoso.example")
    assert (invitation.tenant, invitation.role, invitation.is_pending) == (tenant, "reader", True)
    assert not Membership.objects.filter(user__email="ops@contoso.example").exists()
    assert "Invited ops@contoso.example to contoso as Reader." in capsys.readouterr().out


def test_add_member_refuses_someone_already_invited(tenant):
    call_command("add_member", "ops@contoso.example", "--tenant", "contoso")
    with pytest.raises(CommandError, match="already invited"):
        call_command("add_member", "OPS@contoso.example", "--tenant", "contoso")
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x@contoso.example", "--tenant", "nope"], "Unknown tenant 'nope'."),
        (["not-an-email", "--tenant", "contoso"], "Enter a valid email address."),
        (
            [f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 60}.example", "--tenant", "contoso"],
            "at most 254 characters",
        ),
    ],
)
def test_add_member_refuses_bad_input_and_changes_nothing(tenant, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("add_member", *args)
    assert not User.objects.exists()


def test_seed_demo_refuses_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not Tenant.objects.exists()


def test_seed_demo_twice_gives_the_documented_data_once(db, settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    events = AuditEvent.objects.count()
    call_command("seed_demo")
    assert AuditEvent.objects.count() == events  # the second run changed nothing
    assert set(Tenant.objects.values_list("slug", flat=True)) == {
        "contoso",
        "fabrikam",
        "northwind",
    }
    roles = dict(Membership.objects.values_list("user__email", "role"))
    assert roles == {
        "admin@contoso.example": "admin",
        "billing@contoso.example": "billing_admin",
        "reader@contoso.example": "reader",
        "finance@contoso.example": "member",
        "admin@fabrikam.example": "admin",
        "partner@northwind.example": "admin",
    }
    link = PartnerRelationship.objects.get()
    assert (link.partner.slug, link.customer.slug) == ("northwind", "contoso")
    assert User.objects.get(email="finance@contoso.example").check_password("demo-password-1")
    out = capsys.readouterr().out
    assert "partner@northwind.example" in out
    assert "0 created, 0 changed" in out  # the demo catalog, loaded the second time
    assert App.objects.offered_to(Tenant.objects.get(slug="fabrikam")).count() >= 10


def test_a_long_name_makes_a_slug_that_fits(db):
    call_command("create_tenant", "A " * 60, "--country", "GB")
    assert len(Tenant.objects.get().slug) <= 50
