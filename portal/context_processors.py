from .models import Invitation, Tenant
from .navigation import navigation_for


def navigation(request):
    if getattr(request, "tenant", None) is None:
        return {}
    return {
        "nav_groups": navigation_for(request),
        "switchable_tenants": Tenant.objects.visible_to(request.user).exclude(pk=request.tenant.pk),
        # The switcher lists them (templates/portal/pending_invitations.html).
        "pending_invitations": Invitation.objects.open()
        .addressed_to(request.user)
        .select_related("tenant", "invited_by"),
    }
