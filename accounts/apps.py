from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from linli import hooks

        from . import access, rules  # noqa: F401  (permissions; the kept tokens' and role holders' signals)

        hooks.add_nav(
            hooks.NavEntry("access_log", _("Access log"), "accounts:access_log", "eye", "accounts.view_access_log", order=140),
            hooks.NavEntry("locked", _("Locked sign-ins"), "accounts:locked", "people", "accounts.unlock", order=145),
        )
        hooks.add_actions(
            hooks.Action("admin", "access_log", _("Personal-data access log"), "accounts:access_log", "eye", perm="accounts.view_access_log",
                         group=_("Quick links"), order=160, note=_("Who revealed which ID numbers and phones")),
        )
