from django.urls import path

from . import api

# Under /api/. Publishers' clients call paths with and without a trailing slash: both answer.
urlpatterns = [
    path("oauth2/token", api.oauth_token, name="oauth_token"),
    path("oauth2/token/", api.oauth_token),
]
