"""Scope: a user with a role at node N sees N's subtree and nothing else.

Every list, detail, export and API call filters through these helpers. A resident-role user
has no registry scope (they see their own household through `own_household`).
"""

from django.db.models import Q, QuerySet

from linli.db import prefix_q
from linli.errors import NotFound

from .models import Role, RoleAssignment

STAFF_ROLES = {
    Role.CITY_ADMIN,
    Role.DISTRICT_ADMIN,
    Role.STREET_OFFICER,
    Role.COMMUNITY_WORKER,
    Role.GRID_WORKER,
    Role.DEPARTMENT_HANDLER,
}


def assignments(user) -> list[tuple[str, str, int]]:
    """(role, region_path, region_id) for the user, cached on the user object for the request."""
    if not user or not user.is_authenticated:
        return []
    cached = getattr(user, "_linli_roles", None)
    if cached is None:
        cached = _load(user)
    return cached


def assignment_rows(user) -> list[RoleAssignment]:
    """The user's RoleAssignment rows with their places (without boundaries, from the
    per-process tree, regions/tree.py), built from the same one query as assignments() and
    cached beside it: the page frame (web/context.py) shows the role and place."""
    if not user or not user.is_authenticated:
        return []
    rows = getattr(user, "_linli_role_objects", None)
    if rows is None:
        from regions import tree

        rows = []
        for values in _raw(user):
            ra = RoleAssignment.from_db(None, _ROW_FIELDS, values)
            ra.region = tree.unit(ra.region_path)
            rows.append(ra)
        user._linli_role_objects = rows
    return rows


# RoleAssignment's columns in their model order, but its creation time.
_ROW_FIELDS = ["id", "user_id", "role", "region_id", "region_path", "department"]


def role_values(user) -> list[tuple]:
    """The user's role rows as plain values (one query), for attach()."""
    return list(RoleAssignment.objects.filter(user=user).values_list(*_ROW_FIELDS))


def attach(user, values: list[tuple]) -> None:
    """Give a user object role rows already read (role_values()): its checks need no query."""
    forget(user)
    user._linli_role_values = values


def _raw(user) -> list[tuple]:
    raw = getattr(user, "_linli_role_values", None)
    if raw is None:
        raw = role_values(user)
        user._linli_role_values = raw
    return raw


def forget(user) -> None:
    """Drop the role rows cached on this user object (the next check reads them again)."""
    for name in ("_linli_role_values", "_linli_roles", "_linli_role_objects", "_linli_departments", "_linli_role_rows"):
        user.__dict__.pop(name, None)


def _load(user) -> list[tuple[str, str, int]]:
    # One plain query; the places come from the per-process tree when a page needs them.
    raw = _raw(user)
    cached = [(role, path, region_id) for _i, _u, role, region_id, path, _d in raw]
    user._linli_roles = cached
    # A department handler's department with its area, read by the same query.
    user._linli_departments = [(d, path) for _i, _u, role, _r, path, d in raw if role == Role.DEPARTMENT_HANDLER]
    return cached


def departments(user) -> list[tuple[str, str]]:
    """(department, area path) of each department-handler assignment of the user."""
    if not user or not user.is_authenticated:
        return []
    assignments(user)
    cached = getattr(user, "_linli_departments", None)
    if cached is None:  # roles cached by someone else without the departments
        cached = list(
            RoleAssignment.objects.filter(user=user, role=Role.DEPARTMENT_HANDLER).values_list("department", "region_path")
        )
        user._linli_departments = cached
    return cached


def roles(user) -> set[str]:
    return {r for r, _, _ in assignments(user)}


def scope_paths(user, roles_: set | None = None) -> list[str]:
    """Minimal list of subtree roots the user may see (nested paths folded)."""
    allowed = roles_ or STAFF_ROLES
    paths = sorted({p for r, p, _ in assignments(user) if r in allowed})
    folded: list[str] = []
    for p in paths:
        if not any(p.startswith(f) for f in folded):
            folded.append(p)
    return folded


def scope_q(user, field: str = "region_path", roles_: set | None = None) -> Q:
    paths = scope_paths(user, roles_)
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for p in paths:
        q |= prefix_q(field, p)
    return q


def scoped(qs: QuerySet, user, field: str = "region_path", roles_: set | None = None) -> QuerySet:
    return qs.filter(scope_q(user, field, roles_))


def in_scope(user, path: str, roles_: set | None = None) -> bool:
    return any(path.startswith(p) for p in scope_paths(user, roles_))


def get_scoped(qs: QuerySet, user, pk, field: str = "region_path", roles_: set | None = None):
    """Fetch one row by id within the user's scope; NotFound (never Forbidden) otherwise, so ids
    outside the scope are indistinguishable from ids that do not exist."""
    from django.utils.translation import gettext_lazy as _

    try:
        return scoped(qs, user, field, roles_).get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise NotFound("not_found", _("Not found, or outside your area."))


def home_region(user):
    """The node of the user's widest staff assignment (the start of their tree browser)."""
    from regions.models import Region

    rows = sorted(assignments(user), key=lambda a: len(a[1]))
    for role, _path, region_id in rows:
        if role != Role.RESIDENT:
            return Region.objects.get(pk=region_id)
    return None
