import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("City administrator")
    DISTRICT_ADMIN = "district_admin", _("District administrator")
    STREET_OFFICER = "street_officer", _("Street officer")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    GRID_WORKER = "grid_worker", _("Grid worker")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")
    RESIDENT = "resident", _("Resident")


# The level of the tree at which each role is normally assigned (a check on assignment).
ROLE_LEVELS = {
    Role.CITY_ADMIN: {1},
    Role.DISTRICT_ADMIN: {2},
    Role.STREET_OFFICER: {3},
    Role.COMMUNITY_WORKER: {4},
    Role.GRID_WORKER: {5},
    Role.DEPARTMENT_HANDLER: {1, 2, 3},
    Role.RESIDENT: {5},
}


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    # A resident's own account points at their registry row.
    resident = models.OneToOneField(
        "registry.Resident", null=True, blank=True, on_delete=models.SET_NULL, related_name="account"
    )

    def __str__(self):
        return self.display_name or self.username


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=30, choices=Role.choices)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="role_assignments")
    # Copy of region.path: the scope of this assignment is every row whose region_path starts with it.
    region_path = models.CharField(max_length=255, db_index=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "region"], name="role_assignment_unique"),
        ]

    def __str__(self):
        return f"{self.user} {self.get_role_display()} @ {self.region}"


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"token of {self.user} until {self.expires_at:%Y-%m-%d}"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class PersonalDataAccess(models.Model):
    """One reveal of a protected value (ID number, phone): who, what, when, from where."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="pii_accesses")
    resident = models.ForeignKey("registry.Resident", null=True, blank=True, on_delete=models.PROTECT)
    organization = models.ForeignKey("registry.Organization", null=True, blank=True, on_delete=models.PROTECT)
    field = models.CharField(max_length=30)
    reason = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # Copied from the resident, so an administrator browses the accesses of their subtree.
    region_path = models.CharField(max_length=255, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.user} revealed {self.field} at {self.at:%Y-%m-%d %H:%M}"
