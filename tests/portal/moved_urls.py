"""A URL configuration that puts the tenant area elsewhere (tests/portal/test_links.py)."""

from django.urls import include, path

from portal.urls import tenant_patterns

urlpatterns = [path("moved/<slug:tenant_slug>/", include((tenant_patterns, "portal")))]
