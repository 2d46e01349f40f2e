from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from . import holders, rules  # noqa: F401  (permissions; the role-holder cache's signals)
