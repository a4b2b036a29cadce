from django.urls import path

from . import api

# Under /api/. Publishers' clients call paths with and without a trailing slash: both answer.
urlpatterns = [
    path("oauth2/token", api.oauth_token, name="oauth_token"),
    path("oauth2/token/", api.oauth_token),
    # Any other path under /api/ (the Fulfillment API's included before this): JSON 404.
    path("<path:rest>", api.api_not_found),
]
