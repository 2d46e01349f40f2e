from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self):
        from auditlog.registry import auditlog

        from linli import hooks
        from regions import hooks as region_hooks

        from . import access
        from . import models as m

        secret = ["id_number_enc", "id_number_bidx", "phone_enc", "phone_bidx", "contact_phone_enc", "contact_phone_bidx"]
        auditlog.register(m.Resident, exclude_fields=secret + ["pinyin", "initials", "region_path", "updated_at"])
        auditlog.register(m.Household, exclude_fields=["region_path"])
        auditlog.register(m.House, exclude_fields=["region_path"])
        auditlog.register(m.Building, exclude_fields=["region_path"])
        auditlog.register(m.Organization, exclude_fields=secret + ["region_path"])
        auditlog.register(m.ResidentTag, exclude_fields=["region_path"])

        region_hooks.add_contents(access.contents_of)
        hooks.add_warmup(access.load_pinyin)
        hooks.add_home_part("grid", access.grid_home)
        hooks.add_home_part("community", access.community_home)
        hooks.add_home_part("resident", access.resident_home)
        hooks.add_nav(
            hooks.NavEntry("residents", _("Residents"), "registry:resident_list", "people", "registry.view", tab=True, order=100, top=7),
            hooks.NavEntry("buildings", _("Buildings"), "registry:building_list", "building", "registry.view", order=110, top=9),
            hooks.NavEntry("organizations", _("Organisations"), "registry:organization_list", "org", "registry.view", order=120),
            hooks.NavEntry("import", _("Import / export"), "registry:import", "sheet", "registry.import", order=130),
        )
        registry = _("Registry")
        links = _("Quick links")
        hooks.add_actions(
            hooks.Action("grid", "buildings", _("Buildings and households"), "registry:building_list", "building", region_query=True,
                         perm="registry.view", order=90),
            hooks.Action("grid", "residents", _("All residents"), "registry:resident_list", "people", region_query=True,
                         perm="registry.view", order=100),
            hooks.Action("community", "residents", _("Residents"), "registry:resident_list", "people", perm="registry.view", group=registry, order=200),
            hooks.Action("community", "buildings", _("Buildings"), "registry:building_list", "building", perm="registry.view", group=registry, order=210),
            hooks.Action("community", "organizations", _("Organisations"), "registry:organization_list", "org", perm="registry.view",
                         group=registry, order=220),
            hooks.Action("community", "import", _("Import"), "registry:import", "sheet", perm="registry.import", group=registry, order=230),
            hooks.Action("community", "export", _("Export"), "registry:export", "sheet", perm="registry.export", group=registry, order=240),
            hooks.Action("admin", "residents", _("Residents"), "registry:resident_list", "people", perm="registry.view", group=links, order=100,
                         note=_("Search the people of your area")),
            hooks.Action("admin", "buildings", _("Buildings"), "registry:building_list", "building", perm="registry.view", group=links, order=110,
                         note=_("Buildings, houses and households")),
            hooks.Action("admin", "organizations", _("Organisations"), "registry:organization_list", "org", perm="registry.view", group=links,
                         order=120, note=_("Businesses, schools, social organisations")),
            hooks.Action("admin", "import", _("Import residents"), "registry:import", "sheet", perm="registry.import", group=links, order=130,
                         note=_("Upload an Excel sheet")),
            hooks.Action("admin", "export", _("Export residents"), "registry:export", "sheet", perm="registry.export", group=links, order=140,
                         note=_("Excel, with masked personal data")),
        )
