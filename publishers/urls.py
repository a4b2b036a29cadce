from django.urls import path

from . import views

app_name = "marketplace"

urlpatterns = [
    path("", views.app_list, name="app_list"),
    path("apps/<uuid:app_uuid>/", views.app_detail, name="app_detail"),
]
