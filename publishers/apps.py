from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class PublishersConfig(AppConfig):
    name = "publishers"
    verbose_name = "Catalog"

    def ready(self):
        from .cache import catalog_changed
        from .models import App, Plan, Price, Publisher

        for model in (Publisher, App, Plan, Price):
            post_save.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-{model}")
            post_delete.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-d-{model}")
        m2m_changed.connect(
            catalog_changed, sender=Plan.allowed_tenants.through, dispatch_uid="catalog-m2m"
        )
