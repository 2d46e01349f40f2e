from django.apps import AppConfig


class WorkordersConfig(AppConfig):
    name = "workorders"
    verbose_name = "Work orders"

    def ready(self):
        from auditlog.registry import auditlog

        from . import models as m

        # Administrators' edits of the rules are history too (who changed which limit, when).
        for model in (m.Category, m.CategoryAttribute, m.SlaRule, m.RoutingRule, m.Holiday):
            auditlog.register(model)
