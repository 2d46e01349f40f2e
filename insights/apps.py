from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = "Insights"

    def ready(self):
        from linli import hooks

        hooks.add_nav(hooks.NavEntry("insights", _("Figures"), "insights:dashboard", "eye", "insights.view", order=40, top=4))
