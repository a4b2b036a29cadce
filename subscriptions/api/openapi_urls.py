from django.urls import path

from .openapi import openapi_json

# Under /api/: the publisher API's OpenAPI document.
urlpatterns = [path("openapi.json", openapi_json, name="api_openapi")]
