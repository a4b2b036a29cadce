from django.urls import path

from . import views

app_name = "go"

# Outside the tenant area: links from elsewhere (a publisher's site) that name an app only.
urlpatterns = [
    path("apps/<uuid:subscription_uuid>/", views.subscription_go, name="app"),
]
