from django.urls import path

from . import proposal_views as views

app_name = "proposals"

proposal = "<uuid:proposal_uuid>/"

urlpatterns = [
    path("", views.proposal_list, name="list"),
    path(proposal, views.proposal_detail, name="detail"),
    path(f"{proposal}accept/", views.proposal_accept, name="accept"),
    path(f"{proposal}decline/", views.proposal_decline, name="decline"),
]
