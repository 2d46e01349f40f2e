"""What every page's frame needs: who is signed in, in which role and place, and the navigation
that role gets (the entries each app registered, linli.hooks). One query per request (the user's
role assignments with their places), shared with the scope helpers in accounts/access.py."""

from functools import cache

import rules
from django.apps import apps
from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, RoleAssignment
from linli import hooks
from regions.access import assignment_rows

# Widest role first: the first assignment in this order is the user's "primary" role, the one
# whose home page they get.
ROLE_ORDER = [
    Role.CITY_ADMIN,
    Role.DISTRICT_ADMIN,
    Role.STREET_OFFICER,
    Role.COMMUNITY_WORKER,
    Role.GRID_WORKER,
    Role.DEPARTMENT_HANDLER,
    Role.RESIDENT,
]


def role_rows(user) -> list[RoleAssignment]:
    """The user's role assignments with their places, widest role first (cached on the user)."""
    if not user or not user.is_authenticated:
        return []
    rows = getattr(user, "_linli_role_rows", None)
    if rows is None:
        # The rows accounts.access.assignments() reads for the scope checks (one query for both).
        rows = sorted(assignment_rows(user), key=lambda ra: (ROLE_ORDER.index(ra.role) if ra.role in ROLE_ORDER else 99, len(ra.region_path)))
        user._linli_role_rows = rows
    return rows


def primary_role(user) -> RoleAssignment | None:
    rows = role_rows(user)
    return rows[0] if rows else None


_URLS: dict[tuple, str | None] = {}


def _url(name: str, query: str = "") -> str | None:
    """The page's address, reversed once per process (and URL configuration, and script prefix)."""
    key = (name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    try:
        url = _URLS[key]
    except KeyError:
        try:
            url = reverse(name)
        except NoReverseMatch:  # a page not built yet: its link is left out, never shown broken
            url = None
        _URLS[key] = url
    return None if url is None else url + query


def staff_items():
    """The staff navigation, as the apps registered it (linli.hooks)."""
    return hooks.nav_entries("staff")


# Pseudo-permissions of the navigation entries: the role the entry is for.
_ROLE_CHECKS = {
    "grid": {Role.GRID_WORKER},
    "field": {Role.GRID_WORKER, Role.COMMUNITY_WORKER},
}


@cache
def _model_permissions() -> frozenset[str]:
    """Every "app_label.codename" Django makes a Permission row for (the models' default and
    Meta permissions), the names ModelBackend can grant. A Permission row added by hand under
    another name would not be consulted for the menu; none is (permissions are rules here)."""
    names = set()
    for model in apps.get_models():
        opts = model._meta
        names.update(f"{opts.app_label}.{action}_{opts.model_name}" for action in opts.default_permissions)
        names.update(f"{opts.app_label}.{codename}" for codename, _label in opts.permissions)
    return frozenset(names)


def _allowed(user, perm) -> bool:
    """user.has_perm(perm) without its cost where it is known: the items' permissions are rules
    predicates (answered from the role rows already read), and when the rule says no, asking
    ModelBackend (two queries for the user's and groups' permissions) can only change the answer
    for a superuser or for a name that is a model permission."""
    if not perm:
        return True
    roles = _ROLE_CHECKS.get(perm)
    if roles is not None:
        return any(ra.role in roles for ra in role_rows(user))
    if rules.perm_exists(perm) and perm not in _model_permissions():
        return rules.has_perm(perm, user) or (user.is_active and user.is_superuser)
    return user.has_perm(perm)


# The top bar has room for a few items; the rest are in the menu (☰), which lists them all.
TOP_MAX = 8


def _mark_top(items: list[dict]):
    ranked = sorted((i for i in items if i["priority"] is not None), key=lambda i: i["priority"])
    top = {i["key"] for i in ranked[:TOP_MAX]}
    for item in items:
        item["top"] = item["key"] in top or len(items) <= TOP_MAX


def nav_items(request) -> list[dict]:
    user = request.user
    primary = primary_role(user)
    items = []
    if primary is None:
        items.append({"key": "home", "label": _("Home"), "url": _url("home"), "icon": "home", "tab": True, "priority": 0})
    else:
        audience = "resident" if primary.role == Role.RESIDENT else "staff"
        home = _("My household") if audience == "resident" else _("Home")
        items.append({"key": "home", "label": home, "url": _url("home"), "icon": "home", "tab": True, "priority": 0})
        for entry in hooks.nav_entries(audience):
            if audience == "staff" and not _allowed(user, entry.perm):
                continue
            url = _url(entry.url_name)
            if url is None:
                continue
            items.append({"key": entry.key, "label": entry.label, "url": url, "icon": entry.icon, "tab": entry.tab, "priority": entry.top})
    _mark_top(items)
    path = request.path
    for item in items:
        url = item["url"]
        item["active"] = path == url if item["key"] == "home" else path.startswith(url.split("?")[0])
    return items


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    primary = primary_role(user)
    items = nav_items(request)
    return {
        "nav_items": items,
        "nav_tabs": [i for i in items if i.get("tab")],
        "nav_primary": primary,
        "nav_user_name": str(user),
        "nav_role_label": primary.get_role_display() if primary else "",
        "nav_place": primary.region if primary else None,
        "nav_department": primary.department if primary else "",
        "nav_unread": _unread(user),
    }


def _unread(user) -> int:
    """The bell's count of unread notifications (one indexed count per page), from the app that
    registered the bell."""
    count = hooks.unread_counter()
    return count(user) if count is not None else 0
