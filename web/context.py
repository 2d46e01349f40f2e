"""What every page's frame needs: who is signed in, in which role and place, and the navigation
that role gets. One query per request (the user's role assignments with their places), shared
with the scope helpers in accounts/access.py."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

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
        rows = list(RoleAssignment.objects.filter(user=user).select_related("region"))
        rows.sort(key=lambda ra: (ROLE_ORDER.index(ra.role) if ra.role in ROLE_ORDER else 99, len(ra.region_path)))
        user._linli_role_rows = rows
        if getattr(user, "_linli_roles", None) is None:
            # The same rows feed accounts.access.assignments(), so scope checks need no query.
            user._linli_roles = [(ra.role, ra.region_path, ra.region_id) for ra in rows]
            user._linli_departments = [(ra.department, ra.region_path) for ra in rows if ra.role == Role.DEPARTMENT_HANDLER]
    return rows


def primary_role(user) -> RoleAssignment | None:
    rows = role_rows(user)
    return rows[0] if rows else None


def _url(name: str, query: str = "") -> str | None:
    try:
        return reverse(name) + query
    except NoReverseMatch:  # a page not built yet: its link is left out, never shown broken
        return None


# key, label, url name, icon (a name in web/_icons.html), permission needed, shown in the phone tab bar
STAFF_ITEMS = [
    ("home", _("Home"), "home", "home", None, True),
    ("workorders", _("Work orders"), "workorders:index", "sheet", None, True),
    ("window", _("One-window desk"), "workorders:window", "sheet", "workorders.window", False),
    ("mediation", _("Mediation"), "mediation:case_list", "people", "registry.view", False),
    ("insights", _("Figures"), "insights:dashboard", "eye", "registry.view", False),
    ("places", _("Places"), "regions:index", "tree", None, True),
    ("residents", _("Residents"), "registry:resident_list", "people", "registry.view", True),
    ("buildings", _("Buildings"), "registry:building_list", "building", "registry.view", True),
    ("organizations", _("Organisations"), "registry:organization_list", "org", "registry.view", False),
    ("import", _("Import / export"), "registry:import", "sheet", "registry.import", False),
    ("access_log", _("Access log"), "accounts:access_log", "eye", "accounts.view_access_log", False),
    ("config", _("Categories and limits"), "workorders:config", "tree", "workorders.view_config", False),
]


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
            if perm and not user.has_perm(perm):
                continue
            url = _url(name)
            if url is None:
                continue
            items.append({"key": key, "label": label, "url": url, "icon": icon, "tab": tab})
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
