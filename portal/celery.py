import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _recycle_connections(sender=None, **kwargs) -> None:
    """Between a worker's tasks, what Django does between requests: close a database
    connection past CONN_MAX_AGE or broken, and check the next one before use (the
    connection is otherwise kept: CELERY_DB_REUSE_MAX). Not for an eager task: it runs
    inside the caller's request or transaction."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
