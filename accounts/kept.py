"""Who a bearer token belongs to, and who holds a role at a place, kept per process.

Every API call looked its token up (with the user) and then the user's role rows; every new
work order looked up its desk's dispatchers to notify them. These rows change rarely, so each
process keeps what it has read (linli/snapshot.py): a change saved through the models (a token
issued or revoked, a user switched off or edited, a role given, taken or moved) is seen at once
in the process that made it and within a second in the others once it commits (every 30 s at
the latest where no shared cache is configured).

Access is still decided from the user's own role rows, the same ones the database holds.
"""

import copy

from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from linli.snapshot import Snapshot

from . import access
from .models import ApiToken, RoleAssignment, User

_tokens = Snapshot("api-tokens", dict)
_holders = Snapshot("role-holders", dict)

# A token's last use is written at most this often (seconds).
TOUCH_SECONDS = 300


def identify(key: str) -> User | None:
    """The active user a bearer token (plain key) belongs to, with their role rows attached
    (accounts/access.py reads them instead of querying); None for an unknown, expired or
    revoked token or a switched-off user. A copy: callers may change it."""
    digest = ApiToken.hash(key)
    table = _tokens.get()
    entry = table.get(digest)
    if entry is None:
        row = ApiToken.objects.select_related("user").filter(key_hash=digest).first()
        if row is None:
            return None  # unknown keys are not kept: nothing to grow without bound
        entry = {"pk": row.pk, "expires_at": row.expires_at, "used": row.last_used_at, "user": row.user, "roles": access.role_values(row.user)}
        table[digest] = entry
    now = timezone.now()
    if entry["expires_at"] <= now or not entry["user"].is_active:
        return None
    if entry["used"] is None or (now - entry["used"]).total_seconds() > TOUCH_SECONDS:
        ApiToken.objects.filter(pk=entry["pk"]).update(last_used_at=now)
        entry["used"] = now
    user = copy.copy(entry["user"])
    access.attach(user, entry["roles"])
    return user


def holders_query(roles, region_path: str, *, exact: bool = True, department: str = ""):
    """Active users holding one of `roles` at `region_path` (exact) or at it or any place above it
    (exact=False), in the department if one is given: the query, read fresh."""
    qs = RoleAssignment.objects.filter(role__in=roles)
    if exact:
        qs = qs.filter(region_path=region_path)
    else:
        from regions.models import Region

        step = Region.steplen
        qs = qs.filter(region_path__in=[region_path[:i] for i in range(step, len(region_path) + 1, step)])
    if department:
        qs = qs.filter(department=department)
    return User.objects.filter(pk__in=qs.values("user_id"), is_active=True)


def holders(roles, region_path: str, *, exact: bool = True, department: str = "") -> list[User]:
    """holders_query()'s users, kept per process. Copies: callers may change them."""
    key = (tuple(sorted(roles)), region_path, exact, department)
    table = _holders.get()
    found = table.get(key)
    if found is None:
        found = tuple(holders_query(key[0], region_path, exact=exact, department=department).order_by("pk"))
        table[key] = found
    return [copy.copy(u) for u in found]


def forget() -> None:
    _tokens.forget()
    _holders.forget()


def changed(update_fields=None, **_kwargs) -> None:
    """Call after changing users, tokens or role rows other than through save() or delete()
    (bulk updates)."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in changes nobody's roles or tokens
    _tokens.changed()
    _holders.changed()


for _model in (ApiToken, RoleAssignment, User):
    post_save.connect(changed, sender=_model, dispatch_uid=f"accounts.kept.save.{_model.__name__}")
    post_delete.connect(changed, sender=_model, dispatch_uid=f"accounts.kept.delete.{_model.__name__}")
