from django.apps import AppConfig


class FieldworkConfig(AppConfig):
    name = "fieldwork"
    verbose_name = "Field work"

    def ready(self):
        from auditlog.registry import auditlog

        from . import models as m
        from . import signals  # noqa: F401  (keeps due lists in step with the registry)

        auditlog.register(m.VisitRule)
        auditlog.register(m.PatrolRule)
        auditlog.register(m.Visit, exclude_fields=["region_path"])
        auditlog.register(m.GridProfile, exclude_fields=["phone_enc"])
        auditlog.register(m.EvaluationRound)
