from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkordersConfig(AppConfig):
    name = "workorders"
    verbose_name = "Work orders"

    def ready(self):
        from auditlog.registry import auditlog

        from linli import hooks

        from . import (
            access,
            figures,  # noqa: F401  (registers the work-order board with insights)
        )
        from . import models as m
        from .services import notify

        # Administrators' edits of the rules are history too (who changed which limit, when).
        for model in (m.Category, m.CategoryAttribute, m.SlaRule, m.RoutingRule, m.Holiday):
            auditlog.register(model)

        hooks.set_unread_counter(access.unread_count)
        hooks.set_notifier(notify.notify_any)
        hooks.add_nav(
            hooks.NavEntry("workorders", _("Work orders"), "workorders:index", "sheet", tab=True, order=10, top=1),
            hooks.NavEntry("window", _("One-window desk"), "workorders:window", "sheet", "workorders.window", order=20, top=6),
            hooks.NavEntry("config", _("Categories and limits"), "workorders:config", "tree", "workorders.view_config", order=150),
            hooks.NavEntry("report", _("Snap and report"), "workorders:report", "pin", tab=True, order=10, audience="resident"),
            hooks.NavEntry("mine", _("My reports"), "workorders:mine", "sheet", tab=True, order=20, audience="resident"),
        )
        orders = _("Work orders")
        hooks.add_actions(
            hooks.Action("grid", "tasks", _("My tasks"), "workorders:tasks", "sheet", order=60),
            hooks.Action("grid", "report", _("Report a problem"), "workorders:report", "pin", order=70),
            hooks.Action("grid", "settle", _("Settle on the spot"), "workorders:settle", "pin", order=80),
            hooks.Action("community", "board", _("Dispatch board"), "workorders:board", "sheet", primary=True, group=orders, order=10),
            hooks.Action("community", "overdue", _("Overdue board"), "workorders:overdue", "eye", group=orders, order=20),
            hooks.Action("community", "hotline", _("Hotline call"), "workorders:hotline", "people", group=orders, order=30),
            hooks.Action("community", "ledger", _("Problem ledger"), "workorders:ledger", "sheet", group=orders, order=40),
            hooks.Action("admin", "board", _("Dispatch board"), "workorders:board", "sheet", primary=True, group=orders, order=10),
            hooks.Action("admin", "overdue", _("Overdue board"), "workorders:overdue", "eye", group=orders, order=20),
            hooks.Action("admin", "assign", _("Assign work down"), "workorders:assign", "tree", group=orders, order=30),
            hooks.Action("admin", "ledger", _("Problem ledger"), "workorders:ledger", "sheet", group=orders, order=40),
            hooks.Action("department", "inbox", _("Department inbox"), "workorders:inbox", "sheet", primary=True, order=10),
            hooks.Action("department", "assign", _("Assign work down"), "workorders:assign", "tree", order=20),
            hooks.Action("resident", "report", _("Snap and report"), "workorders:report", "pin", primary=True, order=10),
            hooks.Action("resident", "mine", _("My reports"), "workorders:mine", "sheet", order=20),
        )
