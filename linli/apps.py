from django.apps import AppConfig


class LinliConfig(AppConfig):
    name = "linli"
    verbose_name = "Linli"
