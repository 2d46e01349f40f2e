from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegionsConfig(AppConfig):
    name = "regions"
    verbose_name = "Regions"

    def ready(self):
        from auditlog.registry import auditlog

        from linli import hooks

        from .access import tree  # noqa: F401  (its signal handlers keep the per-process tree current)
        from .models import Region

        auditlog.register(Region, exclude_fields=["path", "depth", "numchild", "boundary"])

        hooks.add_nav(hooks.NavEntry("places", _("Places"), "regions:index", "tree", tab=True, order=90, top=8))
        hooks.add_actions(
            hooks.Action("grid", "my_grid", _("My grid"), "regions:node", "pin", region_arg=True, order=110),
            hooks.Action("admin", "locate", _("Find the grid of a point"), "regions:locate", "pin", perm="regions.locate", group=_("Quick links"),
                         order=170, note=_("From longitude and latitude")),
            hooks.Action("department", "tree", _("Tree of places"), "regions:node", "tree", region_arg=True, order=30),
            hooks.Action("department", "locate", _("Find the grid of a point"), "regions:locate", "pin", perm="regions.locate", order=40),
        )
