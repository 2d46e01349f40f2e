from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from . import kept, rules  # noqa: F401  (permissions; the kept tokens' and role holders' signals)
