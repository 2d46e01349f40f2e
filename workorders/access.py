"""Which orders a user sees, what they may do to one, and every read of the work-order pages and
API: the desks' lists, the places and people they offer, the one-window desk, the category
administration, and the categories and rules kept per process.

- Staff with an area (city, district, street, community, grid) see the orders whose place lies
  in their area.
- A department handler sees the orders of their department in their area.
- A resident sees the orders they reported.
Anything else answers "not found".
"""

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import AREA_ROLES, assignments, departments, get_scoped, scope_paths
from accounts.models import Role, RoleAssignment, User
from linli.db import prefix_q
from linli.errors import DomainError, Forbidden, NotFound
from linli.snapshot import Snapshot
from regions.models import Level, Region
from regions.services.geo import EARTH_RADIUS_M, haversine_m

from . import hooks
from .models import (
    ACTION_MISSING,
    ENDED_STATUSES,
    OPEN_STATUSES,
    ApprovalRequest,
    Attachment,
    Category,
    CategoryAttribute,
    Holiday,
    Kind,
    Notification,
    Rating,
    RequestStatus,
    RoutingRule,
    SlaRule,
    Source,
    Status,
    SupervisionNotice,
    Transition,
    WorkOrder,
)

DISPATCH_ROLES = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_OFFICER, Role.COMMUNITY_WORKER}
# Who works on orders (everyone but residents).
STAFF_ROLES = AREA_ROLES | {Role.DEPARTMENT_HANDLER}

NOT_FOUND = _("Not found, or outside your area.")


def _not_found() -> NotFound:
    return NotFound("not_found", NOT_FOUND)


def _any_prefix(field: str, paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= prefix_q(field, p)
    return q


# ---------------------------------------------------------------- orders in scope


def orders_q(user) -> Q:
    if not user or not user.is_authenticated:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for role, path, _region in assignments(user):
        if role in AREA_ROLES:
            q |= prefix_q("region_path", path)
    for department, path in departments(user):
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
        raise _not_found()


def order_by_reference(user, ref: str) -> WorkOrder | None:
    """The order a person names by its number (or its id) among those they may see."""
    ref = (ref or "").strip()
    pk = WorkOrder.pk_from_number(ref) if len(ref) >= 9 else (int(ref) if ref.isdigit() else None)
    if pk is None:
        return None
    found = orders(user).filter(pk=pk).first()
    if found is not None and len(ref) >= 9 and found.number != ref:
        return None
    return found


def order_list(user, *, statuses=None, category_ids=None, overdue=None, region=None, desk_id=None, department=None, mine=None):
    """The orders the user may see, narrowed: statuses, categories (ids), overdue or not, a place
    within the user's area (a Region from place()), the desk (handler unit) holding them, a
    department, and `mine` ("reported": my reports, "assigned": given to me)."""
    qs = orders(user)
    if statuses:
        qs = qs.filter(status__in=statuses)
    if category_ids is not None:
        qs = qs.filter(category_id__in=category_ids)
    if overdue is not None:
        qs = qs.filter(overdue=overdue)
    if region is not None:
        qs = qs.filter(prefix_q("region_path", region.path))
    if desk_id is not None:
        qs = qs.filter(handler_region_id=desk_id)
    if department is not None:
        qs = qs.filter(department=department)
    if mine == "reported":
        qs = qs.filter(reporter=user)
    elif mine == "assigned":
        qs = qs.filter(assignee=user)
    return qs


def public_orders(kinds):
    """Orders of the kinds the city publishes (Open311: incidents and demands), for anyone: only
    their public fields are ever shown."""
    return WorkOrder.objects.filter(kind__in=kinds).select_related("category", "region", "handler_region")


def reported_by(user):
    """The user's own reports (a resident's "my reports"), with what the list shows."""
    return (
        WorkOrder.objects.filter(reporter=user).select_related("category")
        .only("id", "title", "status", "suspended_status", "reported_at", "category_id", "category__name")
    )


# ---------------------------------------------------------------- what a user may do to an order


def is_staff(user) -> bool:
    """Any role but resident (staff see one-window items; residents report problems)."""
    return any(r != Role.RESIDENT for r, _p, _i in assignments(user))


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
        d == order.department and order.region_path.startswith(p) for d, p in departments(user)
    ):
        return True
    if not order.assignee_id and not order.department and has_area_role(user, {Role.GRID_WORKER}, order.handler_region_path):
        return True
    if hooks.handles(user, order):  # apps built on orders name more handlers (mediators)
        return True
    return is_dispatcher(user, order)


def is_community_of(user, order: WorkOrder) -> bool:
    """A worker of the community the order's place lies in, while the order is at a desk above
    that community (it may take the order on: 小事不出网格，大事不出社区)."""
    if order.handler_region.level >= Level.COMMUNITY or order.department:
        return False
    return has_area_role(user, {Role.COMMUNITY_WORKER}, order.region_path[: Region.steplen * Level.COMMUNITY])


def handled_by(order: WorkOrder) -> int | None:
    """Who reported the result of the latest handling (the actor of its "handle" step)."""
    return Transition.objects.filter(order=order, action="handle").order_by("-at", "-id").values_list("actor_id", flat=True).first()


def is_verifier(user, order: WorkOrder) -> bool:
    """On-site verification: the grid worker of the order's place, or its dispatchers, but never
    the person who handled it (GB/T 30428 keeps handling and verifying apart)."""
    if not (has_area_role(user, {Role.GRID_WORKER}, order.region_path) or is_dispatcher(user, order)):
        return False
    return handled_by(order) != user.pk


def is_reporter(user, order: WorkOrder) -> bool:
    return bool(order.reporter_id) and order.reporter_id == user.pk


def can_see(user, order: WorkOrder) -> bool:
    return WorkOrder.objects.filter(orders_q(user), pk=order.pk).exists()


def may_take(user, path: str) -> bool:
    """Could this user be the assignee of an order at `path`? (staff whose area holds it)"""
    return has_area_role(user, AREA_ROLES, path) or any(path.startswith(p) for _d, p in departments(user))


def require(ok: bool):
    if not ok:
        raise Forbidden("forbidden", _("You may not do this with this work order."))


# ---------------------------------------------------------------- the parts of one order


def request_of(order: WorkOrder, request_id: int | None = None) -> ApprovalRequest | None:
    """A request for more time on this order: the one with this id, or else the pending one."""
    reqs = ApprovalRequest.objects.filter(order=order).select_related("requested_by")
    if request_id is not None:
        return reqs.filter(pk=request_id).first()
    return reqs.filter(status=RequestStatus.PENDING).first()


def rating_of(order: WorkOrder) -> Rating | None:
    return Rating.objects.filter(order=order).first()


def attachment_of(order: WorkOrder, pk) -> Attachment | None:
    return Attachment.objects.filter(pk=pk, order=order).first()


def order_record(order: WorkOrder) -> dict:
    """Its timeline (with the actors), files, requests for more time (newest first) and rating."""
    return {
        "transitions": list(Transition.objects.filter(order=order).select_related("actor").order_by("at", "id")),
        "attachments": list(Attachment.objects.filter(order=order).order_by("at", "id")),
        "requests": list(ApprovalRequest.objects.filter(order=order).select_related("requested_by").order_by("-requested_at", "-id")),
        "rating": rating_of(order),
    }


# ---------------------------------------------------------------- places and people the pages offer


def desk_paths(user, roles) -> list[str]:
    """The areas where the user holds one of `roles` (empty: none, the desk is not theirs)."""
    return scope_paths(user, set(roles))


def place(user, pk, roles=None) -> Region:
    """A place within the user's area (held with one of `roles`, default any); "not found" for any other."""
    return get_scoped(Region.objects.all(), user, pk, field="path", roles_=roles)


def region_by_id(pk) -> Region:
    """Any place by id (a report may name a place anywhere in the city)."""
    region = Region.objects.filter(pk=pk).first()
    if region is None:
        raise _not_found()
    return region


def grid_of(user) -> Region | None:
    """The grid a grid worker works in."""
    for r, _p, region_id in assignments(user):
        if r == Role.GRID_WORKER:
            return Region.objects.filter(pk=region_id).first()
    return None


def units_in(paths, levels=(Level.GRID,), limit: int = 500) -> list[dict]:
    """{pk, name, level} of the active units at `levels` in the areas, in tree order."""
    rows = (
        Region.objects.filter(_any_prefix("path", paths), level__in=levels, valid_to__isnull=True)
        .order_by("path").values("pk", "name", "level")[:limit]
    )
    return list(rows)


def places_below(paths) -> list[dict]:
    """The places one and two levels below the user's area (a filter list, not the whole tree)."""
    top = min(len(p) for p in paths) // Region.steplen
    levels = [lv for lv in (top + 1, top + 2) if lv <= Level.GRID] or [Level.GRID]
    return units_in(paths, levels=levels, limit=500)


def grid_shapes(user, region: Region | None = None, limit: int = 2000) -> dict:
    """GeoJSON of the grid boundaries around the user (their street, or a given region's), a
    plain background for the map (no tiles)."""
    if region is None:
        paths = [p for r, p, _i in assignments(user)]
        resident = getattr(user, "resident", None)
        if resident is not None:
            paths.append(resident.region_path)
        if not paths:
            paths = list(Region.objects.filter(depth=1).values_list("path", flat=True)[:1])
        base = min(paths, key=len) if paths else ""
    else:
        base = region.path
    # From the street down (a city's 25,000 grids would make a heavy page).
    base = base[: Region.steplen * Level.STREET] if len(base) > Region.steplen * Level.STREET else base
    features = []
    qs = Region.objects.filter(prefix_q("path", base), level=Level.GRID, valid_to__isnull=True, boundary__isnull=False)
    for pk, name, boundary in qs.values_list("pk", "name", "boundary")[:limit]:
        features.append({"type": "Feature", "properties": {"id": pk, "name": name}, "geometry": boundary})
    return {"type": "FeatureCollection", "features": features}


def resident_in_area(id_number: str, paths):
    """The registered resident with this ID number, when they live in one of the areas."""
    from registry.services import find_by_id_number

    resident = find_by_id_number(id_number)
    if resident is None or not any(resident.region_path.startswith(p) for p in paths):
        return None
    return resident


def assignee_choices(paths, limit: int = 100) -> list[dict]:
    """People who can take orders in the area (grid and community workers, street officers),
    nearest the leaves first; a wide area narrows the list with the place filter."""
    roles = {k: str(v) for k, v in Role.choices}
    rows = (
        RoleAssignment.objects.filter(_any_prefix("region_path", paths), role__in=[Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.STREET_OFFICER],
                                      user__is_active=True)
        .order_by("region_path", "user__username")
        .values_list("user_id", "user__display_name", "user__username", "role", "region__name")[: limit * 2]
    )
    seen, out = set(), []
    for user_id, display, username, role, place_name in rows:
        if user_id in seen:
            continue
        seen.add(user_id)
        out.append({"id": user_id, "label": f"{display or username} · {roles.get(role, role)} · {place_name}"})
    return out[:limit]


def departments_near(paths) -> list[str]:
    """Departments with a handler whose area holds (or lies within) the given area."""
    prefixes = set()
    for p in paths:
        prefixes.update(p[:i] for i in range(Region.steplen, len(p) + 1, Region.steplen))
    qs = RoleAssignment.objects.filter(role=Role.DEPARTMENT_HANDLER).filter(Q(region_path__in=prefixes) | _any_prefix("region_path", paths))
    return sorted({d for d in qs.values_list("department", flat=True) if d})


def candidates(order: WorkOrder) -> list[dict]:
    """Who may be given this order: staff of the handler unit's subtree holding its place."""
    start = len(order.handler_region_path)
    prefixes = [order.region_path[:i] for i in range(start, len(order.region_path) + 1, Region.steplen)] or [order.region_path]
    held = (
        RoleAssignment.objects.filter(region_path__in=prefixes, role__in=[Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.STREET_OFFICER])
        .select_related("user", "region").order_by("-region_path", "user__username")[:100]
    )
    seen, out = set(), []
    for ra in held:
        if ra.user_id not in seen and ra.user.is_active:
            seen.add(ra.user_id)
            out.append({"id": ra.user_id, "label": f"{ra.user} · {ra.get_role_display()} · {ra.region.name}"})
    return out


# ---------------------------------------------------------------- the desks

# The columns a desk row shows (a region row carries its boundary GeoJSON: never load it per row).
ROW_FIELDS = (
    "id", "title", "status", "priority", "source", "address", "reported_at", "due_at", "overdue", "department",
    "category_id", "region_id", "handler_region_id", "assignee_id", "category__name", "region__name",
    "handler_region__name", "assignee__username", "assignee__display_name",
)

# The same columns as values: the pages read 50 orders and their category, place, handler unit
# and assignee as dicts rather than about 250 model instances.
ROW_VALUES = (
    "id", "title", "status", "priority", "source", "address", "reported_at", "due_at", "department", "assignee_id",
    "category__name", "region__name", "handler_region__name", "assignee__username", "assignee__display_name",
)


def desk_rows(qs):
    return qs.select_related("category", "region", "handler_region", "assignee").only(*ROW_FIELDS)


class DeskRow(dict):
    """One order of a desk as ROW_VALUES, with the `pk` keyset pages read."""

    @property
    def pk(self):
        return self["id"]


def desk_values(qs, ids_first: bool = False) -> list[DeskRow]:
    """The orders of a (sliced) desk queryset as ROW_VALUES. ids_first: pick the orders before
    joining their names (one query, the pick as a subquery), for a list sorted on something
    other than the id (the overdue board, by deadline), where the database would otherwise join
    every matching order before sorting and keeping a page."""
    if ids_first:
        qs = WorkOrder.objects.filter(pk__in=Subquery(qs.values("pk"))).order_by(*qs.query.order_by)
    return [DeskRow(row) for row in qs.values(*ROW_VALUES)]


MAX_UNITS = 400


def _desk_q(paths) -> Q:
    """handler_region_path in the areas: as the list of the areas' units when there are not
    too many (a street: ~50), so the (handler_region_path, status, id) index is sought per unit
    and status instead of read along the whole area's range; as a prefix range otherwise."""
    units = list(Region.objects.filter(_any_prefix("path", paths)).values_list("path", flat=True)[: MAX_UNITS + 1])
    if len(units) <= MAX_UNITS:
        return Q(handler_region_path__in=units)
    return _any_prefix("handler_region_path", paths)


def on_desks(paths):
    """Orders whose handler unit lies in the given areas. The areas are the user's own
    (desk_paths), and an order's place always lies under its handler unit (routing puts the
    handler at or above the place, escalation only moves it up), so these rows are inside the
    user's scope; the query reads the (handler_region_path, status, id) index without the OR of
    orders_q, which would make the database scan the area twice."""
    return desk_rows(WorkOrder.objects.filter(_desk_q(paths)))


@dataclass
class DeskFilter:
    """What a desk list is narrowed to: a status ("open", "all" or one), a category (with the
    categories under it), overdue only, a place (within the user's area: place()) and a search
    (an order number, or words of the title or the address)."""

    status: str = "open"
    category: int | None = None
    overdue: bool = False
    place: Region | None = None
    q: str = ""

    def apply(self, qs):
        if self.status == "open":
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif self.status != "all":
            qs = qs.filter(status=self.status)
        if self.category:
            qs = qs.filter(Q(category_id=self.category) | Q(category__parent_id=self.category))
        if self.overdue:
            qs = qs.filter(overdue=True)
        if self.place is not None:
            qs = qs.filter(prefix_q("region_path", self.place.path))
        if self.q:
            pk = WorkOrder.pk_from_number(self.q) if len(self.q) >= 9 and self.q.isdigit() else None
            if pk:
                qs = qs.filter(pk=pk)
            else:
                qs = qs.filter(Q(title__contains=self.q) | Q(address__contains=self.q))
        return qs


def board(paths, desk_filter: DeskFilter):
    """The dispatch board: orders on the desks of the user's dispatch area, newest first."""
    return desk_filter.apply(on_desks(paths)).order_by("-id")


def department_areas(user) -> list[tuple[str, str]]:
    """(department, area path) of each of the user's department-handler roles."""
    return departments(user)


def inbox(user, desk_filter: DeskFilter):
    """A department's orders within each of the user's department areas (department index)."""
    q = Q(pk__in=[])
    for department, path in departments(user):
        if department:
            q |= Q(department=department) & prefix_q("region_path", path)
    return desk_filter.apply(desk_rows(WorkOrder.objects.filter(q))).order_by("-id")


def overdue(paths):
    """Open orders on the desks of the area past their stage deadline, soonest deadline first."""
    return (
        on_desks(paths).filter(status__in=OPEN_STATUSES)
        .filter(Q(overdue=True) | Q(due_at__lt=timezone.now())).order_by("due_at", "id")
    )


def open_notices(paths, limit: int = 100) -> list[SupervisionNotice]:
    """Supervision notices (督办) raised to units of the area and not yet resolved, oldest first."""
    return list(
        SupervisionNotice.objects.filter(_any_prefix("region_path", paths), resolved_at__isnull=True)
        .select_related("order", "region")
        .only("id", "stage", "due_at", "created_at", "region_id", "region__name", "order_id", "order__title", "order__status", "order__reported_at")
        .order_by("created_at", "id")[:limit]
    )


def tasks(user):
    """A grid worker's lists, newest first: (assigned to me, on my grid's desk, waiting for my
    verification)."""
    mine_qs = (
        WorkOrder.objects.filter(assignee=user, status__in=[Status.DISPATCHED, Status.IN_PROGRESS, Status.SUSPENDED])
        .order_by("-id")
    )
    grids = [p for r, p, _i in assignments(user) if r == Role.GRID_WORKER]
    if grids:
        desk = (
            WorkOrder.objects.filter(_any_prefix("handler_region_path", grids), status__in=[Status.REPORTED, Status.FILED, Status.DISPATCHED],
                                     assignee__isnull=True, department="")
            .order_by("-id")
        )
        verify = (
            WorkOrder.objects.filter(_any_prefix("region_path", grids), status=Status.HANDLED)
            .order_by("-id")
        )
    else:
        desk = verify = WorkOrder.objects.none()
    return desk_rows(mine_qs), desk_rows(desk), desk_rows(verify)


def tasks_sheet(user, limit: int = 10_000):
    """The orders of the user's three task lists (at most `limit` of each), newest first."""
    ids = [o.pk for qs in tasks(user) for o in qs[:limit]]
    return orders(user).filter(pk__in=ids).order_by("-id")


def ledger(user, start, end, region: Region | None = None):
    """The problem ledger (问题台账): the orders the user may see reported in [start, end), in a
    place of their area (place()) or all of it, oldest first."""
    qs = orders(user).filter(reported_at__gte=start, reported_at__lt=end)
    if region is not None:
        qs = qs.filter(prefix_q("region_path", region.path))
    return qs.order_by("id")


# ---------------------------------------------------------------- notifications


def notifications(user, *, unread: bool = False):
    """The user's notices, newest first."""
    qs = Notification.objects.filter(user=user).order_by("-at", "-id")
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


def notification(user, pk) -> Notification | None:
    return Notification.objects.filter(pk=pk, user=user).first()


def unread_count(user) -> int:
    """The bell's number."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# ---------------------------------------------------------------- the one-window desk


def service_items():
    """The active one-window items, in tree order."""
    return Category.objects.filter(kind=Kind.SERVICE, is_group=False, active=True).select_related("parent").order_by("parent__sort", "sort", "code")


def service_item(code) -> Category:
    category = service_items().filter(code=code).first()
    if category is None:
        raise DomainError("category_unknown", _("There is no such one-window service item."), field="category", status=404)
    return category


def last_notice(order: WorkOrder) -> Transition | None:
    """The latest one-time notice of missing materials given for an application."""
    return order.transitions.filter(action=ACTION_MISSING).order_by("-at", "-id").first()


def applications(user):
    """The one-window applications the user may see."""
    return orders(user).filter(kind=Kind.SERVICE)


def application(user, pk) -> WorkOrder:
    found = order(user, pk)
    if found.kind != Kind.SERVICE:
        raise _not_found()
    return found


def window_lists(user, today_limit: int = 100) -> dict:
    """The desk's lists: applications told what is missing and not yet accepted (newest first),
    those in hand (by deadline) and today's applications at the window."""
    apps = applications(user).select_related("category")
    waiting = Exists(Transition.objects.filter(order=OuterRef("pk"), action=ACTION_MISSING))
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "waiting": list(apps.filter(status=Status.REPORTED).filter(waiting).order_by("-reported_at")[:50]),
        "in_hand": list(apps.filter(status__in=[Status.FILED, Status.DISPATCHED, Status.IN_PROGRESS, Status.HANDLED]).order_by("deadline", "id")[:50]),
        "today": list(apps.filter(source=Source.WINDOW, reported_at__gte=start).order_by("-reported_at")[:today_limit]),
    }


def window_places(user) -> list[Region]:
    """The communities (and villages) an application at this user's window can belong to."""
    paths = scope_paths(user, {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_OFFICER, Role.COMMUNITY_WORKER})
    places = []
    for path in paths:
        places += list(Region.objects.filter(path__startswith=path, level=Level.COMMUNITY, valid_to__isnull=True).order_by("path")[:500])
    return places


def colleagues(order: WorkOrder) -> list[User]:
    """Colleagues an application can be given to: staff of its community."""
    ids = RoleAssignment.objects.filter(
        role=Role.COMMUNITY_WORKER, region_path=order.handler_region_path
    ).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("username"))


# ---------------------------------------------------------------- category administration


def category_list():
    """Every category (active or not) with its number of attributes."""
    return list(Category.objects.annotate(n_attributes=Count("attributes")))


def category(pk) -> Category:
    found = Category.objects.select_related("parent").filter(pk=pk).first()
    if found is None:
        raise _not_found()
    return found


def attribute(pk) -> CategoryAttribute:
    found = CategoryAttribute.objects.select_related("category").filter(pk=pk).first()
    if found is None:
        raise _not_found()
    return found


def sla_rule(pk) -> SlaRule:
    found = SlaRule.objects.filter(pk=pk).first()
    if found is None:
        raise _not_found()
    return found


def sla_rules(category: Category) -> list[SlaRule]:
    """The category's own SLA rules, by stage, newest first."""
    return list(SlaRule.objects.filter(category=category).order_by("stage", "-valid_from"))


def routing_rule(pk) -> RoutingRule:
    found = RoutingRule.objects.select_related("region").filter(pk=pk).first()
    if found is None:
        raise _not_found()
    return found


def routing_rules(category: Category) -> list[RoutingRule]:
    return list(RoutingRule.objects.filter(category=category).select_related("region").order_by("region_path"))


def inherited_routing(category: Category) -> tuple[Category | None, list[RoutingRule]]:
    """The nearest group above the category with routing rules of its own, and those rules."""
    node = category.parent
    while node is not None:
        rules = list(RoutingRule.objects.filter(category=node).select_related("region"))
        if rules:
            return node, rules
        node = node.parent
    return None, []


def open_orders_of(category: Category) -> int:
    return category.orders.exclude(status__in=ENDED_STATUSES).count()


def routing_places(user) -> list[tuple[str, str]]:
    """The places a user may route for: the whole city (city administrators), and the
    districts and streets of their area."""
    options = []
    paths = [p for r, p, _i in assignments(user) if r in (Role.CITY_ADMIN, Role.DISTRICT_ADMIN)]
    if any(r == Role.CITY_ADMIN for r, _p, _i in assignments(user)):
        options.append(("", str(_("The whole city"))))
    seen = set()
    for path in paths:
        for region in Region.objects.filter(path__startswith=path, level__lte=Level.STREET, valid_to__isnull=True).order_by("path"):
            if region.pk not in seen and region.level > Level.CITY:
                seen.add(region.pk)
                indent = "　" * (region.level - Level.DISTRICT)
                options.append((str(region.pk), f"{indent}{region.name}"))
    return options


def routing_region(pk) -> Region | None:
    """The place a routing rule is saved for (the service checks it is the actor's)."""
    return Region.objects.filter(pk=pk).first() if pk else None


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
