from django.urls import path

from . import renewal_views as views

app_name = "renewals"

urlpatterns = [
    path("", views.renewal_list, name="list"),
    path("export.csv", views.renewal_csv, name="csv"),
]
