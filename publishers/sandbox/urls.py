from django.conf import settings
from django.urls import path

from . import views

app_name = "sandbox"

urlpatterns = [
    path("<slug:slug>/", views.landing, name="landing"),
    path("<slug:slug>/subscriptions/", views.subscription_list, name="subscriptions"),
]


def sandbox_landing_url(slug: str) -> str:
    """The sandbox's landing page for the publisher `slug`, on this portal."""
    return f"{settings.PORTAL_BASE_URL}/sandbox-publisher/{slug}/"
