"""Scope: a user with a role at node N sees N's subtree and nothing else; and who a bearer
token belongs to, who holds a role at a place, kept per process.

Every list, detail, export and API call filters through the scope helpers. A resident-role user
has no registry scope (they see their own household through `own_household`).

Tokens and role holders: every API call looked its token up (with the user) and then the user's
role rows; every new work order looked up its desk's dispatchers to notify them. These rows
change rarely, so each process keeps what it has read (linli/snapshot.py): a change saved
through the models (a token issued or revoked, a user switched off or edited, a role given,
taken or moved) is seen at once in the process that made it and within a second in the others
once it commits (every 30 s at the latest where no shared cache is configured). Access is still
decided from the user's own role rows, the same ones the database holds.
"""

import copy

from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from linli import paths
from linli.db import prefix_q
from linli.errors import NotFound
from linli.snapshot import Snapshot

from .models import ApiToken, Role, RoleAssignment, User

# Staff who answer for an area of the tree (a department handler's work is their department's).
AREA_ROLES = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_OFFICER, Role.COMMUNITY_WORKER, Role.GRID_WORKER}

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


# RoleAssignment's columns in their model order, but its creation time.
ROW_FIELDS = ["id", "user_id", "role", "region_id", "region_path", "department"]


def role_values(user) -> list[tuple]:
    """The user's role rows as plain values (one query), for attach()."""
    return list(RoleAssignment.objects.filter(user=user).values_list(*ROW_FIELDS))


def attach(user, values: list[tuple]) -> None:
    """Give a user object role rows already read (role_values()): its checks need no query."""
    forget(user)
    user._linli_role_values = values


def raw_roles(user) -> list[tuple]:
    """The user's role rows as plain values (ROW_FIELDS), read once per user object."""
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
    raw = raw_roles(user)
    cached = [(role, path, region_id) for _i, _u, role, region_id, path, _d in raw]
    user._linli_roles = cached
    # A department handler's department with its area, read by the same query.
    user._linli_departments = [(d, path) for _i, _u, role, _r, path, d in raw if role == Role.DEPARTMENT_HANDLER]
    return cached


# Only the roles that carry accounts.view_access_log widen the access log's scope.
LOG_ROLES = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_OFFICER}


def access_log(user) -> QuerySet:
    """Reveals of personal data inside the user's area (the access log's rows)."""
    from .models import PersonalDataAccess

    return scoped(PersonalDataAccess.objects.select_related("user", "resident", "organization"), user, roles_=LOG_ROLES)


def locked_sign_ins() -> list:
    """Sign-ins locked now: the recorded failures of a user name or address that reached the
    limit within the lock's time, newest first."""
    import datetime as dt

    from axes.models import AccessAttempt
    from django.conf import settings

    since = timezone.now() - dt.timedelta(minutes=settings.LINLI_LOGIN_LOCK_MINUTES)
    rows = list(AccessAttempt.objects.filter(attempt_time__gte=since).order_by("-attempt_time"))
    limit = settings.LINLI_LOGIN_FAILURES
    by_user: dict = {}
    by_ip: dict = {}
    for r in rows:
        by_user[r.username] = by_user.get(r.username, 0) + r.failures_since_start
        by_ip[r.ip_address] = by_ip.get(r.ip_address, 0) + r.failures_since_start
    return [r for r in rows if by_user[r.username] >= limit or by_ip[r.ip_address] >= limit]


def role_assignments(user) -> list[RoleAssignment]:
    """The user's role rows with their places, in tree order (a person's own page of roles)."""
    return list(RoleAssignment.objects.filter(user=user).select_related("region").order_by("region_path", "role"))


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


# ---------------------------------------------------------------- tokens and role holders, kept

_tokens = Snapshot("api-tokens", dict)
_holders = Snapshot("role-holders", dict)

# A token's last use is written at most this often (seconds).
TOUCH_SECONDS = 300


def identify(key: str) -> User | None:
    """The active user a bearer token (plain key) belongs to, with their role rows attached (the
    scope helpers read them instead of querying); None for an unknown, expired or revoked token
    or a switched-off user. A copy: callers may change it."""
    digest = ApiToken.hash(key)
    table = _tokens.get()
    entry = table.get(digest)
    if entry is None:
        row = ApiToken.objects.select_related("user").filter(key_hash=digest).first()
        if row is None:
            return None  # unknown keys are not kept: nothing to grow without bound
        entry = {"pk": row.pk, "expires_at": row.expires_at, "used": row.last_used_at, "user": row.user, "roles": role_values(row.user)}
        table[digest] = entry
    now = timezone.now()
    if entry["expires_at"] <= now or not entry["user"].is_active:
        return None
    if entry["used"] is None or (now - entry["used"]).total_seconds() > TOUCH_SECONDS:
        ApiToken.objects.filter(pk=entry["pk"]).update(last_used_at=now)
        entry["used"] = now
    user = copy.copy(entry["user"])
    attach(user, entry["roles"])
    return user


def holders_query(roles_, region_path: str, *, exact: bool = True, department: str = ""):
    """Active users holding one of `roles_` at `region_path` (exact) or at it or any place above
    it (exact=False), in the department if one is given: the query, read fresh."""
    qs = RoleAssignment.objects.filter(role__in=roles_)
    if exact:
        qs = qs.filter(region_path=region_path)
    else:
        qs = qs.filter(region_path__in=paths.ancestors(region_path))
    if department:
        qs = qs.filter(department=department)
    return User.objects.filter(pk__in=qs.values("user_id"), is_active=True)


def holders(roles_, region_path: str, *, exact: bool = True, department: str = "") -> list[User]:
    """holders_query()'s users, kept per process. Copies: callers may change them."""
    key = (tuple(sorted(roles_)), region_path, exact, department)
    table = _holders.get()
    found = table.get(key)
    if found is None:
        found = tuple(holders_query(key[0], region_path, exact=exact, department=department).order_by("pk"))
        table[key] = found
    return [copy.copy(u) for u in found]


def reset_kept() -> None:
    """This process reads tokens and role holders afresh (tests)."""
    _tokens.forget()
    _holders.forget()


def roles_changed(update_fields=None, **_kwargs) -> None:
    """Call after changing users, tokens or role rows other than through save() or delete()
    (bulk updates)."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in changes nobody's roles or tokens
    _tokens.changed()
    _holders.changed()


for _model in (ApiToken, RoleAssignment, User):
    post_save.connect(roles_changed, sender=_model, dispatch_uid=f"accounts.access.save.{_model.__name__}")
    post_delete.connect(roles_changed, sender=_model, dispatch_uid=f"accounts.access.delete.{_model.__name__}")
