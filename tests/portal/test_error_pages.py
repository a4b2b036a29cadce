"""Branded 403, 404 and 500 pages, as people see them with DEBUG off."""

import pytest
from django.test import Client
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", boom), *portal_urlpatterns]


@pytest.fixture(autouse=True)
def _debug_off(settings):
    settings.DEBUG = False


def test_404_inside_a_tenant_keeps_the_shell_and_leads_home(login, tenant, admin):
    missing = "00000000-0000-0000-0000-000000000000"
    response = login(admin).get(f"/t/{tenant.slug}/billing/accounts/profiles/{missing}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert 'class="topbar"' in html and 'class="sidenav"' in html
    assert f'href="/t/{tenant.slug}/">Back to Home</a>' in html


def test_404_of_a_tenant_for_a_non_member_names_no_tenant(login, tenant, other_admin):
    response = login(other_admin).get(f"/t/{tenant.slug}/settings/members/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert tenant.name not in html and 'class="topbar"' not in html
    assert 'href="/">Back to the portal</a>' in html


def test_404_outside_a_tenant_is_branded(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content and b"Not Found</h1>" not in response.content
    assert b'href="/">Back to the portal</a>' in response.content


def test_403_keeps_the_shell_and_leads_home(login, tenant, reader):
    response = login(reader).get(f"/t/{tenant.slug}/settings/members/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You can't do that here" in html
    assert 'class="topbar"' in html and 'class="sidenav"' in html
    assert f'href="/t/{tenant.slug}/">Back to Home</a>' in html


@pytest.mark.urls(__name__)
def test_500_is_the_static_branded_page(db):
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    assert "/static/css/portal.css" in html or "portal." in html
    assert 'href="/">Back to the portal</a>' in html
