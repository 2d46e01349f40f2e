from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self):
        from auditlog.registry import auditlog

        from . import models as m

        secret = ["id_number_enc", "id_number_bidx", "phone_enc", "phone_bidx", "contact_phone_enc", "contact_phone_bidx"]
        auditlog.register(m.Resident, exclude_fields=secret + ["pinyin", "initials", "region_path", "updated_at"])
        auditlog.register(m.Household, exclude_fields=["region_path"])
        auditlog.register(m.House, exclude_fields=["region_path"])
        auditlog.register(m.Building, exclude_fields=["region_path"])
        auditlog.register(m.Organization, exclude_fields=secret + ["region_path"])
        auditlog.register(m.ResidentTag, exclude_fields=["region_path"])
