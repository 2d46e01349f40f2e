from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldworkConfig(AppConfig):
    name = "fieldwork"
    verbose_name = "Field work"

    def ready(self):
        from auditlog.registry import auditlog

        from linli import hooks
        from registry.hooks import households_changed

        from . import access
        from . import models as m
        from .services import dues

        auditlog.register(m.VisitRule)
        auditlog.register(m.PatrolRule)
        auditlog.register(m.Visit, exclude_fields=["region_path"])
        auditlog.register(m.GridProfile, exclude_fields=["phone_enc"])
        auditlog.register(m.EvaluationRound)

        # Due lists follow the registry: who lives in a household, its members' care tags.
        households_changed.connect(dues.households_changed, dispatch_uid="fieldwork.households_changed")

        hooks.add_home_part("resident", access.resident_home)
        hooks.add_nav(
            hooks.NavEntry("due", _("Visits due"), "fieldwork:due", "people", "field", tab=True, order=50, top=2),
            hooks.NavEntry("patrols", _("Patrols"), "fieldwork:patrols", "pin", "grid", order=60, top=10),
            hooks.NavEntry("attend", _("Must attend"), "fieldwork:attend_list", "pin", "field", order=70),
            hooks.NavEntry("notices", _("Grid notices"), "fieldwork:notice_list", "eye", "field", order=80),
            hooks.NavEntry("compliance", _("Field work figures"), "fieldwork:compliance", "eye", "fieldwork.view_figures", order=160, top=3),
            hooks.NavEntry("patrol_daily", _("Daily patrol time"), "fieldwork:patrol_daily", "pin", "fieldwork.view_figures", order=170),
            hooks.NavEntry("evaluations", _("Grid worker ratings"), "fieldwork:evaluation_results", "people", "fieldwork.view_figures", order=180),
            hooks.NavEntry("fieldrules", _("Visit and patrol rules"), "fieldwork:rules", "tree", "fieldwork.view_config", order=190),
        )
        hooks.add_actions(
            hooks.Action("grid", "due", _("Visits due"), "fieldwork:due", "people", primary=True, order=10),
            hooks.Action("grid", "patrol", _("Patrol"), "fieldwork:patrols", "pin", order=20),
            hooks.Action("grid", "attend", _("Must attend"), "fieldwork:attend_list", "pin", order=30),
            hooks.Action("grid", "hazard", _("Report a safety hazard"), "fieldwork:quick_report", "pin", args=("hazard",), order=40),
            hooks.Action("grid", "arrival", _("Report a key-person arrival"), "fieldwork:quick_report", "people", args=("arrival",), order=50),
        )
