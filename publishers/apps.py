from django.apps import AppConfig
from django.core import signals as request_signals
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class PublishersConfig(AppConfig):
    name = "publishers"
    verbose_name = "Catalog"

    def ready(self):
        from . import cache
        from .cache import catalog_changed
        from .models import App, Plan, Price, Publisher

        request_signals.request_started.connect(cache.request_started, dispatch_uid="catalog-rs")
        request_signals.request_finished.connect(cache.request_finished, dispatch_uid="catalog-rf")
        # Bulk writes announce themselves through the catalog querysets (models.py); these
        # cover saves, deletes and private-plan tenant lists.
        for model in (Publisher, App, Plan, Price):
            post_save.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-{model}")
            post_delete.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-d-{model}")
        m2m_changed.connect(
            catalog_changed, sender=Plan.allowed_tenants.through, dispatch_uid="catalog-m2m"
        )
        # What is kept under the version (rendered cards, pickled apps) was made by the code
        # of the day: a deploy runs `migrate`, which starts a new version.
        post_migrate.connect(cache.release_changed, sender=self, dispatch_uid="catalog-release")
