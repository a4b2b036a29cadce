from django.urls import path

from . import views

app_name = "subscriptions"

app = "apps/<uuid:subscription_uuid>/"

urlpatterns = [
    path("apps/", views.subscription_list, name="list"),
    path(app, views.subscription_detail, name="detail"),
    path(f"{app}bought/", views.subscription_bought, name="bought"),
    path(f"{app}publisher-portal/", views.subscription_handoff, name="handoff"),
    path(f"{app}quantity/", views.subscription_quantity, name="quantity"),
    path(f"{app}billing-profile/", views.subscription_billing_profile, name="billing_profile"),
    path(f"{app}auto-renew/", views.subscription_auto_renew, name="auto_renew"),
    path(f"{app}rename/", views.subscription_rename, name="rename"),
    path(f"{app}cancel/", views.subscription_cancel, name="cancel"),
    path("buy/<uuid:plan_uuid>/", views.subscription_buy, name="buy"),
]
