"""Tenant URLs, built as `reverse()` builds them but fast enough for a link on every row.

`reverse()` costs about 60 microseconds here; a page of 24 Marketplace cards or 20 member
rows paid for it 24 or 40 times, a third of its rendering. `tenant_url()` reverses each
(URL name, tenant, uuid argument) once, with a placeholder uuid, and afterwards only puts
the row's uuid in the placeholder's place: the same string `reverse()` gives, since a uuid
is written into a URL as it is and our tenant URLs take at most one uuid besides the
tenant's slug. The memo is keyed by the URL configuration and script prefix too, and is
cleared when tests change ROOT_URLCONF.
"""

import uuid
from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse

_PLACEHOLDER = uuid.UUID(int=0)


def tenant_url(name: str, tenant_slug: str, **uuid_kwarg) -> str:
    """`tenant_url("portal:member_role", "contoso", member_uuid=m.uuid)`."""
    if len(uuid_kwarg) > 1:
        raise TypeError("tenant_url() takes at most one uuid argument besides the tenant")
    key, value = next(iter(uuid_kwarg.items()), (None, None))
    head, tail = _url_around_uuid(name, tenant_slug, key, get_urlconf(), get_script_prefix())
    if key is None:
        return head
    if not isinstance(value, uuid.UUID):
        value = uuid.UUID(str(value))  # what the uuid converter would refuse, refused here
    return f"{head}{value}{tail}"


@lru_cache(maxsize=2048)
def _url_around_uuid(name, tenant_slug, key, urlconf, script_prefix) -> tuple[str, str]:
    kwargs = {"tenant_slug": tenant_slug}
    if key is None:
        return reverse(name, urlconf=urlconf, kwargs=kwargs), ""
    url = reverse(name, urlconf=urlconf, kwargs={**kwargs, key: _PLACEHOLDER})
    # The uuid comes after the tenant's slug, which may itself look like a uuid.
    head, found, tail = url.rpartition(str(_PLACEHOLDER))
    if not found:
        raise ValueError(f"{name} does not write {key} into its URL")
    return head, tail


@receiver(setting_changed)
def _clear(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _url_around_uuid.cache_clear()
