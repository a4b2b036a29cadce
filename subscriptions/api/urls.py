from django.urls import re_path

from . import views

# Under /api/saas/. Publishers' clients call paths with and without a trailing slash: both
# answer, neither redirects.
urlpatterns = [
    re_path(r"^subscriptions/?$", views.subscription_list, name="api_subscriptions"),
    re_path(r"^subscriptions/resolve/?$", views.resolve, name="api_resolve"),
    re_path(
        r"^subscriptions/(?P<subscription_id>[^/]+)/listAvailablePlans/?$",
        views.available_plans,
        name="api_available_plans",
    ),
    re_path(
        r"^subscriptions/(?P<subscription_id>[^/]+)/operations/?$",
        views.operation_list,
        name="api_operations",
    ),
    re_path(
        r"^subscriptions/(?P<subscription_id>[^/]+)/operations/(?P<operation_id>[^/]+)/?$",
        views.operation_detail,
        name="api_operation",
    ),
    re_path(
        r"^subscriptions/(?P<subscription_id>[^/]+)/activate/?$",
        views.activate,
        name="api_activate",
    ),
    re_path(
        r"^subscriptions/(?P<subscription_id>[^/]+)/?$",
        views.subscription_detail,
        name="api_subscription",
    ),
]
