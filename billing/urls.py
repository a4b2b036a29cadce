from django.urls import path

from . import views

app_name = "billing"

profile = "profiles/<uuid:profile_uuid>/"

urlpatterns = [
    path("", views.profile_list, name="profile_list"),
    path("profiles/new/", views.profile_create, name="profile_create"),
    path(profile, views.profile_detail, name="profile_detail"),
    path(f"{profile}edit/", views.profile_edit, name="profile_edit"),
    path(f"{profile}make-default/", views.profile_make_default, name="profile_make_default"),
    path(f"{profile}delete/", views.profile_delete, name="profile_delete"),
    path(f"{profile}payment/", views.payment, name="payment"),
    path(f"{profile}payment/method/", views.payment_method, name="payment_method"),
    path(f"{profile}payment/card/", views.card, name="card"),
    path(f"{profile}permissions/", views.roles, name="roles"),
    path(f"{profile}permissions/<uuid:role_uuid>/revoke/", views.role_revoke, name="role_revoke"),
]
