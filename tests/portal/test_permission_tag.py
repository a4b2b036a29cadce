"""Templates ask the views' own permission functions, and never one from the wrong app."""

from types import SimpleNamespace

import pytest
from django.template import Context, Template, TemplateSyntaxError

from billing import permissions as billing_permissions
from portal import permissions as portal_permissions
from portal.templatetags.portal_tags import permission_check, permission_functions


def test_an_action_is_found_by_its_short_name_or_with_its_apps_name():
    found = permission_check("delete_billing_profile")
    assert found is billing_permissions.can_delete_billing_profile
    assert permission_check("billing.delete_billing_profile") is found
    assert permission_check("portal.manage_members") is portal_permissions.can_manage_members


def test_an_action_two_apps_define_must_be_asked_for_with_its_apps_name():
    def mine(membership, obj=None):
        return True

    def theirs(membership, obj=None):
        return False

    found = permission_functions(
        [("one", SimpleNamespace(can_refund=mine)), ("two", SimpleNamespace(can_refund=theirs))]
    )
    assert "refund" not in found
    assert found["one.refund"] is mine
    assert found["two.refund"] is theirs


def test_an_unknown_action_fails_the_template(member):
    template = Template('{% load portal_tags %}{% can "fly" membership as ok %}')
    with pytest.raises(TemplateSyntaxError, match="No permission function can_fly"):
        template.render(Context({"membership": member.memberships.get()}))
