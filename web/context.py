"""What every page's frame needs: who is signed in, in which role and place, and the navigation
that role gets. One query per request (the user's role assignments with their places), shared
with the scope helpers in accounts/access.py."""

from functools import cache

import rules
from django.apps import apps
from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

from accounts.access import assignment_rows
from accounts.models import Role, RoleAssignment

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


# key, label, url name, icon (a name in web/_icons.html), permission needed, shown in the phone tab bar
STAFF_ITEMS = [
    ("home", _("Home"), "home", "home", None, True),
    ("workorders", _("Work orders"), "workorders:index", "sheet", None, True),
    ("window", _("One-window desk"), "workorders:window", "sheet", "workorders.window", False),
    ("mediation", _("Mediation"), "mediation:case_list", "people", "registry.view", False),
    ("insights", _("Figures"), "insights:dashboard", "eye", "registry.view", False),
    ("due", _("Visits due"), "fieldwork:due", "people", "field", True),
    ("patrols", _("Patrols"), "fieldwork:patrols", "pin", "grid", False),
    ("attend", _("Must attend"), "fieldwork:attend_list", "pin", "field", False),
    ("notices", _("Grid notices"), "fieldwork:notice_list", "eye", "field", False),
    ("places", _("Places"), "regions:index", "tree", None, True),
    ("residents", _("Residents"), "registry:resident_list", "people", "registry.view", True),
    ("buildings", _("Buildings"), "registry:building_list", "building", "registry.view", False),
    ("organizations", _("Organisations"), "registry:organization_list", "org", "registry.view", False),
    ("import", _("Import / export"), "registry:import", "sheet", "registry.import", False),
    ("access_log", _("Access log"), "accounts:access_log", "eye", "accounts.view_access_log", False),
    ("config", _("Categories and limits"), "workorders:config", "tree", "workorders.view_config", False),
    ("compliance", _("Field work figures"), "fieldwork:compliance", "eye", "registry.view", False),
    ("patrol_daily", _("Daily patrol time"), "fieldwork:patrol_daily", "pin", "registry.view", False),
    ("evaluations", _("Grid worker ratings"), "fieldwork:evaluation_results", "people", "registry.view", False),
    ("fieldrules", _("Visit and patrol rules"), "fieldwork:rules", "tree", "fieldwork.view_config", False),
]

# Pseudo-permissions of STAFF_ITEMS: the role the item is for.
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
TOP_PRIORITY = ["home", "workorders", "due", "compliance", "insights", "mediation", "window", "residents", "places", "buildings", "patrols"]
TOP_MAX = 8


def _mark_top(items: list[dict]):
    keys = {i["key"] for i in items}
    top = [k for k in TOP_PRIORITY if k in keys][:TOP_MAX]
    for item in items:
        item["top"] = item["key"] in top or len(items) <= TOP_MAX


def nav_items(request) -> list[dict]:
    user = request.user
    primary = primary_role(user)
    items = []
    if primary is None:
        items.append({"key": "home", "label": _("Home"), "url": _url("home"), "icon": "home", "tab": True})
    elif primary.role == Role.RESIDENT:
        items.append({"key": "home", "label": _("My household"), "url": _url("home"), "icon": "home", "tab": True})
        for key, label, name, icon in (("report", _("Snap and report"), "workorders:report", "pin"), ("mine", _("My reports"), "workorders:mine", "sheet")):
            url = _url(name)
            if url is not None:
                items.append({"key": key, "label": label, "url": url, "icon": icon, "tab": True})
    else:
        for key, label, name, icon, perm, tab in STAFF_ITEMS:
            if not _allowed(user, perm):
                continue
            url = _url(name)
            if url is None:
                continue
            items.append({"key": key, "label": label, "url": url, "icon": icon, "tab": tab})
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
    """The bell's count of unread notifications (one indexed count per page)."""
    try:
        from workorders.notify import unread_count
    except ImportError:
        return 0
    return unread_count(user)
