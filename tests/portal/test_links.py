"""portal.links.tenant_url gives what reverse() gives, for every tenant URL it can build."""

import uuid

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal.links import tenant_url


def tenant_url_names(patterns=None, namespace=""):
    """(URL name, its arguments) of every named pattern of the project."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            for name, converters in tenant_url_names(entry.url_patterns, inner):
                yield name, {**entry.pattern.converters, **converters}
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry.pattern.converters


BUILT = sorted(
    (name, sorted(set(args) - {"tenant_slug"}))
    for name, args in tenant_url_names()
    if "tenant_slug" in args and len(args) <= 2
)


def test_the_walk_finds_the_row_urls():
    names = {name for name, _ in BUILT}
    assert {"portal:member_role", "marketplace:app_detail", "portal:home"} <= names


@pytest.mark.parametrize(("name", "args"), BUILT)
def test_the_same_url_as_reverse(name, args):
    kwargs = {arg: uuid.uuid4() for arg in args}
    assert tenant_url(name, "contoso-2", **kwargs) == reverse(
        name, kwargs={"tenant_slug": "contoso-2", **kwargs}
    )
    # The memo serves the second call, with another uuid.
    kwargs = {arg: str(uuid.uuid4()) for arg in args}
    assert tenant_url(name, "contoso-2", **kwargs) == reverse(
        name, kwargs={"tenant_slug": "contoso-2", **kwargs}
    )


def test_not_a_uuid_is_refused():
    with pytest.raises(ValueError):
        tenant_url("portal:member_role", "contoso", member_uuid="../../admin")


def test_a_changed_urlconf_is_followed():
    tenant_url("portal:home", "contoso")
    with override_settings(ROOT_URLCONF="tests.portal.moved_urls"):
        assert tenant_url("portal:home", "contoso") == "/moved/contoso/"
    assert tenant_url("portal:home", "contoso") == "/t/contoso/"


def test_a_slug_that_looks_like_the_placeholder_is_left_alone():
    slug = str(uuid.UUID(int=0))
    member = uuid.uuid4()
    assert tenant_url("portal:member_role", slug, member_uuid=member) == reverse(
        "portal:member_role", kwargs={"tenant_slug": slug, "member_uuid": member}
    )


def test_a_script_prefix_is_kept():
    from django.urls import set_script_prefix

    member = uuid.uuid4()
    set_script_prefix("/portal/")
    try:
        assert tenant_url("portal:member_role", "contoso", member_uuid=member) == (
            f"/portal/t/contoso/settings/members/{member}/role/"
        )
    finally:
        set_script_prefix("/")
    assert tenant_url("portal:member_role", "contoso", member_uuid=member).startswith("/t/")
