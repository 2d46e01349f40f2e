"""Which orders a user sees, and what they may do to one.

- Staff with an area (city, district, street, community, grid) see the orders whose place lies
  in their area.
- A department handler sees the orders of their department in their area.
- A resident sees the orders they reported.
Anything else answers "not found".
"""

import datetime as dt
import math

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import AREA_ROLES, assignments, departments
from accounts.models import Role
from linli.db import prefix_q
from linli.errors import DomainError, Forbidden, NotFound
from linli.snapshot import Snapshot
from regions.services.geo import EARTH_RADIUS_M, haversine_m

from . import hooks
from .models import OPEN_STATUSES, Category, CategoryAttribute, Holiday, RoutingRule, SlaRule, WorkOrder

DISPATCH_ROLES = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_OFFICER, Role.COMMUNITY_WORKER}


def _departments(user) -> list[tuple[str, str]]:
    """(department, area path) of each department-handler assignment."""
    return departments(user)


def orders_q(user) -> Q:
    if not user or not user.is_authenticated:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for role, path, _region in assignments(user):
        if role in AREA_ROLES:
            q |= prefix_q("region_path", path)
    for department, path in _departments(user):
        if department:
            q |= Q(department=department) & prefix_q("region_path", path)
    q |= Q(reporter=user)
    return q


def orders(user):
    return WorkOrder.objects.filter(orders_q(user)).select_related("category", "region", "handler_region", "assignee")


def order(user, pk) -> WorkOrder:
    """One order the user may see; "not found" for any other id (outside the area or absent)."""
    try:
        return orders(user).get(pk=int(pk))
    except (WorkOrder.DoesNotExist, ValueError, TypeError):
        raise NotFound("not_found", _("Not found, or outside your area."))


def has_area_role(user, roles: set, path: str) -> bool:
    """The user holds one of `roles` at `path` or above it."""
    return any(r in roles and path.startswith(p) for r, p, _ in assignments(user))


def is_dispatcher(user, order: WorkOrder) -> bool:
    """Dispatchers of the unit whose desk holds the order (or a unit above it)."""
    return has_area_role(user, DISPATCH_ROLES, order.handler_region_path)


def is_handler(user, order: WorkOrder) -> bool:
    if order.assignee_id and order.assignee_id == user.pk:
        return True
    if order.department and any(
        d == order.department and order.region_path.startswith(p) for d, p in _departments(user)
    ):
        return True
    if not order.assignee_id and not order.department and has_area_role(user, {Role.GRID_WORKER}, order.handler_region_path):
        return True
    if hooks.handles(user, order):  # apps built on orders name more handlers (mediators)
        return True
    return is_dispatcher(user, order)


def is_verifier(user, order: WorkOrder) -> bool:
    """On-site verification: the grid worker of the order's place, or its dispatchers."""
    return has_area_role(user, {Role.GRID_WORKER}, order.region_path) or is_dispatcher(user, order)


def is_reporter(user, order: WorkOrder) -> bool:
    return bool(order.reporter_id) and order.reporter_id == user.pk


def can_see(user, order: WorkOrder) -> bool:
    return WorkOrder.objects.filter(orders_q(user), pk=order.pk).exists()


def may_take(user, path: str) -> bool:
    """Could this user be the assignee of an order at `path`? (staff whose area holds it)"""
    return has_area_role(user, AREA_ROLES, path) or any(path.startswith(p) for _d, p in _departments(user))


def request_of(order: WorkOrder, request_id: int | None = None):
    """A request for more time on this order: the one with this id, or the pending one."""
    from .models import ApprovalRequest, RequestStatus

    reqs = ApprovalRequest.objects.filter(order=order)
    if request_id is not None:
        return reqs.filter(pk=request_id).first()
    return reqs.filter(status=RequestStatus.PENDING).first()


def require(ok: bool):
    if not ok:
        raise Forbidden("forbidden", _("You may not do this with this work order."))


# ---------------------------------------------------------------- possible duplicates nearby

# Open orders of the same category within 50 m and 7 days, while someone reports. A bounding box
# on lat/lng narrows the rows (the (category, reported_at) index holds the time window), then the
# haversine distance keeps those truly within the radius. Orders of any area: the page links
# only those the reporter may see.
NEARBY_RADIUS_M = 50
NEARBY_DAYS = 7
NEARBY_LIMIT = 5


def nearby_box(lat: float, lng: float, radius_m: float = NEARBY_RADIUS_M) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) around the point."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * max(0.01, math.cos(math.radians(lat)))))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def nearby_orders(category_id, lat, lng, *, radius_m: float = NEARBY_RADIUS_M, days: int = NEARBY_DAYS, now=None, exclude=None) -> list[WorkOrder]:
    """Open orders of the category reported in the last `days` within `radius_m`, nearest first;
    each carries `.distance` in metres. Bad coordinates give an empty list."""
    try:
        lat, lng = float(lat), float(lng)
        category_id = int(category_id)
    except (TypeError, ValueError):
        return []
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return []
    now = now or timezone.now()
    min_lat, max_lat, min_lng, max_lng = nearby_box(lat, lng, radius_m)
    qs = WorkOrder.objects.filter(
        category_id=category_id,
        reported_at__gte=now - dt.timedelta(days=days),
        status__in=OPEN_STATUSES,
        lat__gte=min_lat,
        lat__lte=max_lat,
        lng__gte=min_lng,
        lng__lte=max_lng,
    ).only("id", "title", "status", "reported_at", "lat", "lng", "region_path", "reporter_id", "category_id")
    if exclude:
        qs = qs.exclude(pk=exclude)
    found = []
    for order in qs[:200]:
        d = haversine_m(lat, lng, order.lat, order.lng)
        if d <= radius_m:
            order.distance = round(d)
            found.append(order)
    found.sort(key=lambda o: (o.distance, -o.pk))
    return found[:NEARBY_LIMIT]


# ---------------------------------------------------------------- kept per process (linli.snapshot)

# Reporting reads the category, its attribute schema, its SLA limits and routing and the holiday
# calendar on every request; they change rarely (an administrator's edit). Each process keeps
# them, rebuilt after a change as linli/snapshot.py says.


def _load_categories() -> dict:
    rows = list(Category.objects.filter(active=True).prefetch_related("attributes").order_by("sort", "code"))
    by_id = {c.pk: c for c in rows}
    children: dict[int, list] = {}
    roots = []
    for c in rows:
        if c.parent_id and c.parent_id in by_id:
            c.parent = by_id[c.parent_id]
            children.setdefault(c.parent_id, []).append(c)
        elif not c.parent_id:
            roots.append(c)
    return {"by_code": {c.code: c for c in rows}, "by_id": by_id, "roots": roots, "children": children}


kept_categories = Snapshot("workorders-categories", _load_categories).watch(Category, CategoryAttribute)


def categories(refresh_if_missing: str | None = None) -> dict:
    """The active category tree with its attribute schemas ({by_code, by_id, roots, children});
    asked for a code it does not know, it is loaded again first when older than a second (a
    category created a moment ago in another process)."""
    tree = kept_categories.get()
    if refresh_if_missing is not None and refresh_if_missing not in tree["by_code"]:
        tree = kept_categories.get(max_age=1)
    return tree


def category_by_code(code: str) -> Category:
    cat = categories(refresh_if_missing=code)["by_code"].get((code or "").strip())
    if cat is None:
        raise DomainError("category_unknown", _("There is no such category of work."), field="category")
    return cat


def descendant_ids(cat: Category) -> list[int]:
    """The category and every active category below it."""
    tree = categories()
    out, todo = [], [cat.pk]
    while todo:
        pk = todo.pop()
        out.append(pk)
        todo.extend(c.pk for c in tree["children"].get(pk, []))
    return out


def _load_rules() -> dict:
    sla: dict[tuple[int, str], list] = {}
    for r in SlaRule.objects.order_by("-valid_from").values_list("category_id", "stage", "valid_from", "valid_to", "minutes", "urgent_minutes"):
        sla.setdefault((r[0], r[1]), []).append(r[2:])
    routing: dict[int, list] = {}
    for r in RoutingRule.objects.values_list("category_id", "region_path", "level", "department"):
        routing.setdefault(r[0], []).append(r[1:])
    return {
        "sla": sla,
        "routing": routing,
        "parents": dict(Category.objects.values_list("id", "parent_id")),
        "holidays": dict(Holiday.objects.values_list("date", "working")),
    }


kept_rules = Snapshot("workorders-rules", _load_rules).watch(SlaRule, RoutingRule, Category, Holiday)


def rule_tables() -> dict:
    """The rules every new order reads: {"sla": {(category, stage): [(valid_from, valid_to,
    minutes, urgent_minutes)], newest first}, "routing": {category: [(region_path, level,
    department)]}, "parents": {category: parent}, "holidays": {date: working}}."""
    return kept_rules.get()


def lineage(category_id: int) -> list[int]:
    """The category and its ancestors, nearest first."""
    parents = rule_tables()["parents"]
    out, node = [], category_id
    while node is not None and len(out) < 20:
        out.append(node)
        node = parents.get(node)
    return out


def reset_kept() -> None:
    """This process reads the categories and rules afresh (tests)."""
    kept_categories.forget()
    kept_rules.forget()
