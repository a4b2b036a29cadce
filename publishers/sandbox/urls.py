from django.urls import path

from . import views
from .services import sandbox_landing_url, sandbox_webhook_url

app_name = "sandbox"

urlpatterns = [
    path("<slug:slug>/", views.landing, name="landing"),
    path("<slug:slug>/subscriptions/", views.subscription_list, name="subscriptions"),
    path("<slug:slug>/webhook/", views.webhook, name="webhook"),
    path("<slug:slug>/webhooks/", views.webhook_list, name="webhooks"),
]

__all__ = ["app_name", "sandbox_landing_url", "sandbox_webhook_url", "urlpatterns"]
