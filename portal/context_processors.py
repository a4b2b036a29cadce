from .navigation import navigation_for


def navigation(request):
    if getattr(request, "tenant", None) is None:
        return {}
    # The tenant switcher's list is loaded when it is first opened (portal.views.switcher).
    return {"nav_groups": navigation_for(request)}
