"""Who holds a role at a place, kept per process: every new work order notifies its desk's
dispatchers, and reading them was one query per report.

Only for choosing whom to notify: access is always decided from the user's own role rows
(accounts/access.py). A role given, taken or moved, or a user switched off, is seen at once in
the process that made the change and soon after in the others (linli/snapshot.py).
"""

import copy

from django.db.models.signals import post_delete, post_save

from linli.snapshot import Snapshot

from .models import RoleAssignment, User

_kept = Snapshot("role-holders", dict)


def users(roles, region_path: str, *, exact: bool = True, department: str = "") -> list[User]:
    """Active users holding one of `roles` at `region_path` (exact) or at it or any place above it
    (exact=False), in the department if one is given. Copies: callers may change them."""
    key = (tuple(sorted(roles)), region_path, exact, department)
    table = _kept.get()
    found = table.get(key)
    if found is None:
        qs = RoleAssignment.objects.filter(role__in=key[0])
        if exact:
            qs = qs.filter(region_path=region_path)
        else:
            from regions.models import Region

            step = Region.steplen
            qs = qs.filter(region_path__in=[region_path[:i] for i in range(step, len(region_path) + 1, step)])
        if department:
            qs = qs.filter(department=department)
        found = tuple(User.objects.filter(pk__in=qs.values("user_id"), is_active=True).order_by("pk"))
        table[key] = found
    return [copy.copy(u) for u in found]


def forget() -> None:
    _kept.forget()


def changed(update_fields=None, **_kwargs) -> None:
    """Call after changing role rows other than through save() or delete() (bulk updates)."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in changes nobody's roles
    _kept.changed()


for _model in (RoleAssignment, User):
    post_save.connect(changed, sender=_model, dispatch_uid=f"accounts.holders.save.{_model.__name__}")
    post_delete.connect(changed, sender=_model, dispatch_uid=f"accounts.holders.delete.{_model.__name__}")
