from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = "Mediation"

    def ready(self):
        from auditlog.registry import auditlog

        from linli import hooks
        from workorders import hooks as workorders_hooks

        from . import access
        from . import models as m

        auditlog.register(m.Case, exclude_fields=["region_path", "updated_at"], m2m_fields={"mediators"})
        auditlog.register(m.Party, exclude_fields=["phone_enc"])
        auditlog.register(m.Session)
        auditlog.register(m.Term)
        auditlog.register(m.FollowUp)

        hooks.add_nav(hooks.NavEntry("mediation", _("Mediation"), "mediation:case_list", "people", "mediation.view", order=30, top=5))

        # Work orders know nothing of mediation: its mediators, its steps on an order's timeline
        # and the link from an order to its case reach them through workorders.hooks.
        workorders_hooks.add_handler_check(access.mediates_order)
        workorders_hooks.add_timeline_labels(m.TIMELINE_LABELS)
        workorders_hooks.add_record_link(access.case_link)
