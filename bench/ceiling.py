"""The ceiling page of bench/pages.py: a bare Django page, one 10-row SELECT, a table.

Django with no middleware, no session and no template context processors, on the portal's
database settings: the most a page of this stack can serve on this machine. It sends a
Content-Length, as every portal page does, so connections are kept alive alike.
Run by bench/pages.py as `gunicorn bench.ceiling:application`.
"""

import os

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.ceiling"  # whatever the caller's environment says

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.ceiling"
MIDDLEWARE = []
# The portal's models, without the admin, sessions or axes.
OURS = ("portal", "publishers", "billing", "subscriptions")
INSTALLED_APPS = [app for app in INSTALLED_APPS if app in OURS]  # noqa: F405
INSTALLED_APPS += ["django.contrib.auth", "django.contrib.contenttypes"]

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.template import Context, Template  # noqa: E402
from django.urls import path  # noqa: E402

application = get_wsgi_application()  # settings are this module, complete by now
TABLE = Template(
    "<!doctype html><title>Ceiling</title><table><tr><th>Name</th><th>Slug</th></tr>"
    "{% for row in rows %}<tr><td>{{ row.name }}</td><td>{{ row.slug }}</td></tr>{% endfor %}"
    "</table>"
)


def ceiling(request):
    from publishers.models import Publisher

    rows = list(Publisher.objects.order_by("pk").only("name", "slug")[:10])
    response = HttpResponse(TABLE.render(Context({"rows": rows})))
    # What the portal's CommonMiddleware adds: without a length, gunicorn closes the
    # connection after every answer and the load generator pays a new one each time.
    response["Content-Length"] = str(len(response.content))
    return response


urlpatterns = [path("", ceiling)]
