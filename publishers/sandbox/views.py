"""The sandbox publisher's pages: the landing page the marketplace sends admins to (resolve
the token, show the purchase, Activate), all through the Fulfillment API over HTTP."""

import functools

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from .client import ApiFailure, Fulfillment
from .models import SandboxPublisher


def sandbox_only(view):
    """Not there unless SANDBOX_PUBLISHER_ENABLED (the demo and the tests)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.SANDBOX_PUBLISHER_ENABLED:
            raise Http404("No sandbox publisher here.")
        return view(request, *args, **kwargs)

    return wrapped


def client_of(publisher: SandboxPublisher) -> Fulfillment:
    return Fulfillment(
        f"{settings.PORTAL_BASE_URL}/api", publisher.client_id, publisher.client_secret
    )


@sandbox_only
@require_http_methods(["GET", "POST"])
def landing(request, slug):
    publisher = get_object_or_404(SandboxPublisher, slug=slug)
    context = {"publisher": publisher, "portal": settings.PORTAL_BASE_URL}
    api = client_of(publisher)
    if request.method == "POST":
        subscription_id = request.POST.get("subscription", "")
        quantity = request.POST.get("quantity") or None
        try:
            api.activate(
                subscription_id,
                request.POST.get("plan", ""),
                int(quantity) if quantity and quantity.isdigit() else None,
            )
        except ApiFailure as failure:
            context["failure"] = failure
            return render(request, "sandbox/landing.html", context, status=400)
        return redirect(f"{request.path}?activated={subscription_id}")
    try:
        if activated := request.GET.get("activated"):
            context["subscription"] = api.subscription(activated)
            context["activated"] = True
        elif token := request.GET.get("token"):
            context["purchase"] = api.resolve(token)
            context["subscription"] = context["purchase"]["subscription"]
    except ApiFailure as failure:
        context["failure"] = failure
        return render(request, "sandbox/landing.html", context, status=400)
    return render(request, "sandbox/landing.html", context)
