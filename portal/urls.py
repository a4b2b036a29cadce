from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .forms import LoginForm, ResetForm

tenant_patterns = [
    path("", views.home, name="home"),
    path("switcher/", views.switcher, name="switcher"),
    path("settings/members/", views.members, name="members"),
    path("settings/members/<uuid:member_uuid>/role/", views.member_role, name="member_role"),
    path("settings/members/<uuid:member_uuid>/remove/", views.member_remove, name="member_remove"),
    path(
        "settings/members/invitations/<uuid:invitation_uuid>/resend/",
        views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "settings/members/invitations/<uuid:invitation_uuid>/cancel/",
        views.invitation_cancel,
        name="invitation_cancel",
    ),
    path("settings/audit-log/", views.audit_log, name="audit_log"),
    path("settings/audit-log/export.csv", views.audit_log_csv, name="audit_log_csv"),
]

account_patterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(form_class=ResetForm),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", views.start, name="start"),
    path("accounts/", include(account_patterns)),
    # The invited person's answer: outside /t/, since they are not a member yet.
    path(
        "invitations/<uuid:invitation_uuid>/accept/",
        views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "invitations/<uuid:invitation_uuid>/decline/",
        views.invitation_decline,
        name="invitation_decline",
    ),
    path("t/<slug:tenant_slug>/", include((tenant_patterns, "portal"))),
    path("t/<slug:tenant_slug>/marketplace/", include("publishers.urls")),
    path("t/<slug:tenant_slug>/billing/accounts/", include("billing.urls")),
    path("t/<slug:tenant_slug>/billing/bills/", include("billing.invoice_urls")),
    path("t/<slug:tenant_slug>/billing/products/", include("subscriptions.urls")),
    path("t/<slug:tenant_slug>/billing/proposals/", include("subscriptions.proposal_urls")),
    path("t/<slug:tenant_slug>/billing/renewals/", include("subscriptions.renewal_urls")),
    path("webhooks/", include("billing.webhook_urls")),
    path("api/saas/", include("subscriptions.api.urls")),
    path("api/", include("subscriptions.api.openapi_urls")),
    path("api/", include("publishers.api_urls")),  # last: its catch-all answers the rest
    path("go/", include("subscriptions.go_urls")),
    path("sandbox-publisher/", include("publishers.sandbox.urls")),
    path("admin/", admin.site.urls),
]
