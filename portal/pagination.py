"""Pages of a list whose COUNT costs as much as the page itself (a search, say)."""

from django.core.paginator import Page, Paginator
from django.db.models import Count, Window


def page_of_ids(queryset, number, per_page: int) -> Page:
    """The page `Paginator(queryset.values_list("pk", flat=True), per_page).get_page(number)`
    gives, its object_list the page's ids, but in one query: the ids come with the number of
    rows (COUNT(*) OVER ()), so the rows are found once rather than once to count them and
    again for the page. A page past the end, or an empty list, is asked again as Paginator
    asks it (a COUNT, then the last page)."""
    ids = queryset.values_list("pk", flat=True)
    paginator = Paginator(ids, per_page)
    try:
        asked = int(number)  # as Paginator.validate_number reads it
    except (TypeError, ValueError):
        asked = 1
    if asked >= 1:
        start = (asked - 1) * per_page
        counted = queryset.annotate(rows_total=Window(Count("*"))).values_list("pk", "rows_total")
        found = list(counted[start : start + per_page])
        if found:
            paginator.count = found[0][1]
            page = paginator.page(asked)
            page.object_list = [pk for pk, _ in found]
            return page
    page = paginator.get_page(number)
    page.object_list = list(page.object_list)
    return page
