from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "regions"
    verbose_name = "Regions"

    def ready(self):
        from auditlog.registry import auditlog

        from . import tree  # noqa: F401  (its signal handlers keep the per-process tree current)
        from .models import Region

        auditlog.register(Region, exclude_fields=["path", "depth", "numchild", "boundary"])
