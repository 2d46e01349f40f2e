"""Work-order pages: intake (resident portal, grid worker, hotline, assigning down), the desks
(my tasks, dispatch board, department inbox, overdue board), the order page with its actions,
notifications and Excel exports.

Views parse input, call workorders/services.py, render. Orders come through access.py, so an id
outside the user's area is a 404 and a step the user may not take is a 403; any other refusal
is shown as a message on the page with nothing changed.
"""

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Subquery
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.access import assignments, get_scoped, scope_paths
from accounts.models import Role, RoleAssignment, User
from linli.db import prefix_q
from linli.errors import Conflict, DomainError, NotFound
from linli.pages import page, raise_access
from regions.models import Level, Region

from . import access, hooks, services
from .forms import (
    BOARD_STATUSES,
    attribute_fields,
    attribute_values,
    category_groups,
    integer,
    pick_category,
    point,
    text,
)
from .models import (
    OPEN_STATUSES,
    ApprovalRequest,
    Attachment,
    AttachmentRole,
    Kind,
    Notification,
    Rating,
    RequestKind,
    RequestStatus,
    Source,
    Status,
    SupervisionNotice,
    WorkOrder,
)
from .services import notify, uploads

PAGE = 50
STAFF_ROLES = access.AREA_ROLES | {Role.DEPARTMENT_HANDLER}

# The resident's progress bar: the steps of the closed loop in order.
PROGRESS = [Status.REPORTED, Status.FILED, Status.DISPATCHED, Status.IN_PROGRESS, Status.HANDLED, Status.VERIFIED, Status.CLOSED]

ACTIONS = {
    "report": gettext_lazy("Reported"),
    "settle_on_spot": gettext_lazy("Settled on the spot"),
    "assign_down": gettext_lazy("Assigned from above"),
    "file": gettext_lazy("Filed"),
    "void": gettext_lazy("Voided"),
    "duplicate": gettext_lazy("Marked as a duplicate"),
    "dispatch": gettext_lazy("Dispatched"),
    "start": gettext_lazy("Started"),
    "handle": gettext_lazy("Reported as handled"),
    "verify": gettext_lazy("Passed verification"),
    "rework": gettext_lazy("Failed verification (rework)"),
    "close": gettext_lazy("Case closed"),
    "request_extension": gettext_lazy("Asked for an extension"),
    "request_suspension": gettext_lazy("Asked for a suspension"),
    "approve_extension": gettext_lazy("Extension approved"),
    "refuse_extension": gettext_lazy("Extension refused"),
    "approve_suspension": gettext_lazy("Suspension approved"),
    "refuse_suspension": gettext_lazy("Suspension refused"),
    "resume": gettext_lazy("Resumed"),
    "escalate": gettext_lazy("Escalated"),
    "supervise": gettext_lazy("Supervision notice (overdue)"),
    "confirm": gettext_lazy("Confirmed by the reporter"),
    "rate": gettext_lazy("Rated by the reporter"),
    "reopen": gettext_lazy("Reopened by the reporter"),
}


# "Closed" is already 已撤销 (a closed place) in the shared catalogue; a closed case is 已结案.
STATUS_TEXT = {Status.CLOSED: gettext_lazy("Case closed")}


def status_text(status: str) -> str:
    return str(STATUS_TEXT.get(status) or (Status(status).label if status in Status.values else status))


# Login required; NotFound → 404, Forbidden → 403.
wo_view = page()
_raise_access = raise_access


def _roles(user) -> set[str]:
    return {r for r, _p, _i in assignments(user)}


def _area_paths(user, roles) -> list[str]:
    paths = scope_paths(user, set(roles))
    if not paths:
        raise PermissionDenied
    return paths


def _any_prefix(field: str, paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= prefix_q(field, p)
    return q


def _is_resident_only(user) -> bool:
    return not (_roles(user) & set(STAFF_ROLES))


# ------------------------------------------------------------------ small display helpers


def _time_texts() -> dict[str, str]:
    """time_left's phrases in the active language (a desk looks them up once, not per row)."""
    return {
        "dh": _("%(d)s d %(h)s h"), "hm": _("%(h)s h %(m)s min"), "m": _("%(m)s min"),
        "overdue": _("overdue by %(span)s"), "left": _("%(span)s left"),
    }


def time_left(due, now=None, texts=None) -> dict | None:
    """{'text', 'overdue'} for a deadline: how long is left, or how long it is overdue."""
    if due is None:
        return None
    now = now or timezone.now()
    texts = texts or _time_texts()
    seconds = int((due - now).total_seconds())
    overdue = seconds < 0
    s = abs(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        span = texts["dh"] % {"d": days, "h": hours}
    elif hours:
        span = texts["hm"] % {"h": hours, "m": minutes}
    else:
        span = texts["m"] % {"m": max(1, minutes)}
    return {"text": texts["overdue" if overdue else "left"] % {"span": span}, "overdue": overdue}


# The columns a desk row shows (a region row carries its boundary GeoJSON: never load it per row).
ROW_FIELDS = (
    "id", "title", "status", "priority", "source", "address", "reported_at", "due_at", "overdue", "department",
    "category_id", "region_id", "handler_region_id", "assignee_id", "category__name", "region__name",
    "handler_region__name", "assignee__username", "assignee__display_name",
)


def desk_rows(qs):
    return qs.select_related("category", "region", "handler_region", "assignee").only(*ROW_FIELDS)


# The same columns as values (the pages read them so: no model instances for 50 orders and
# their category, place, handler unit and assignee, about 250 objects a page).
ROW_VALUES = (
    "id", "title", "status", "priority", "source", "address", "reported_at", "due_at", "department", "assignee_id",
    "category__name", "region__name", "handler_region__name", "assignee__username", "assignee__display_name",
)


def row_values(qs, limit: int, ids_first: bool = False) -> list[dict]:
    """The first `limit` orders of a desk queryset as dicts of ROW_VALUES (for _rows).
    ids_first: pick the orders before joining their names (one query, the pick as a subquery),
    for a list sorted on something else than the id (the overdue board, by deadline), where the
    database would otherwise join every matching order (a street's ~1,300 overdue ones) before
    sorting and keeping 51."""
    if ids_first:
        picked = qs.values("pk")[:limit]
        qs = WorkOrder.objects.filter(pk__in=Subquery(picked)).order_by(*qs.query.order_by)
    return list(qs.values(*ROW_VALUES)[:limit])


def _rows(orders, now=None) -> list[dict]:
    """What each row of a desk shows, prepared here as plain dicts from row_values(): a desk
    renders 50 rows, and per row a url tag, an include or a dotted lookup on a model (each a
    failed dict lookup, then getattr) costs more than the query of the page."""
    now = now or timezone.now()
    prefix = reverse("workorders:detail", args=[0])[:-2]  # ".../workorders/" before the id
    statuses = {s: status_text(s) for s in Status.values}
    sources = {k: str(v) for k, v in WorkOrder._meta.get_field("source").choices}
    texts = _time_texts()
    rows = []
    for o in orders:
        pk, status = o["id"], o["status"]
        left = time_left(o["due_at"], now, texts) if status in OPEN_STATUSES and status != Status.SUSPENDED else None
        if o["assignee_id"]:
            handler = o["assignee__display_name"] or o["assignee__username"]  # as str(User)
        else:
            handler = o["department"] or o["handler_region__name"]
        rows.append({
            "pk": pk,
            "url": f"{prefix}{pk}/",
            "number": WorkOrder.format_number(pk, o["reported_at"]),
            "title": o["title"],
            "urgent": o["priority"] == "urgent",
            "category": o["category__name"],
            "source": sources.get(o["source"], o["source"]),
            "status": status,
            "status_text": statuses.get(status, status),
            "filed": status == Status.FILED,
            "region": o["region__name"],
            "address": o["address"],
            "handler": handler,
            "left": left["text"] if left else "",
            "overdue": bool(left and left["overdue"]),
        })
    return rows


def progress(order) -> dict:
    if order.status in PROGRESS:
        i = PROGRESS.index(order.status)
    elif order.status == Status.SUSPENDED:
        i = PROGRESS.index(order.suspended_status) if order.suspended_status in PROGRESS else 3
    else:
        i = len(PROGRESS) - 1
    return {
        "percent": round(100 * (i + 1) / len(PROGRESS)),
        "steps": [{"label": status_text(s), "done": j <= i, "current": j == i} for j, s in enumerate(PROGRESS)],
    }


def _geo_grids(user, region: Region | None = None, limit: int = 2000) -> dict:
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


# ------------------------------------------------------------------ the way in


@wo_view
def index(request):
    """The desk that fits the user's widest role."""
    roles = _roles(request.user)
    if roles & access.DISPATCH_ROLES:
        return redirect("workorders:board")
    if Role.GRID_WORKER in roles:
        return redirect("workorders:tasks")
    if Role.DEPARTMENT_HANDLER in roles:
        return redirect("workorders:inbox")
    return redirect("workorders:mine")


# ------------------------------------------------------------------ intake


def _grid_of(user) -> Region | None:
    for r, _p, region_id in assignments(user):
        if r == Role.GRID_WORKER:
            return Region.objects.filter(pk=region_id).first()
    return None


def _check_one_video(files):
    """Photos, or one short video on its own (each file checked by its content)."""
    kinds = [uploads.check(f) for f in files]
    if any(k.startswith("video/") for k in kinds) and len(kinds) > 1:
        raise DomainError("one_video", gettext_lazy("Attach photos or one short video."), field="files")


def _region_choices(user, paths, levels=(Level.GRID,), limit: int = 500) -> list[dict]:
    """{pk, name, level} of the active units at `levels` in the areas, in tree order."""
    rows = (
        Region.objects.filter(_any_prefix("path", paths), level__in=levels, valid_to__isnull=True)
        .order_by("path").values("pk", "name", "level")[:limit]
    )
    return list(rows)


def _pick_region(user, value, roles=None) -> Region | None:
    pk = integer(value)
    if pk is None:
        return None
    return get_scoped(Region.objects.all(), user, pk, field="path", roles_=roles)


def _what_and_where(post, category, lat, lng) -> dict:
    """The fields every intake form shares (report, hotline, settle on the spot)."""
    return {
        "category": category or post.get("category") or None,
        "title": text(post, "title", 200),
        "description": text(post, "description"),
        "lat": lat or None,
        "lng": lng or None,
        "address": text(post, "address", 200),
        "attributes": attribute_values(category, post),
    }


@wo_view
def report(request):
    """随手拍 (resident) or a grid worker's report: category, what, photos, where."""
    user = request.user
    roles = _roles(user)
    grid = _grid_of(user) if Role.GRID_WORKER in roles else None
    staff = bool(roles & STAFF_ROLES)
    if staff and grid is None:
        return redirect("workorders:hotline")
    source = Source.GRID if grid is not None else Source.PORTAL
    category = pick_category(request.POST.get("category") or request.GET.get("category"))
    error = None
    if request.method == "POST":
        lat, lng = point(request.POST)
        files = request.FILES.getlist("files")
        try:
            _check_one_video(files)
            order = services.report(
                user,
                source=source,
                region=grid if (grid is not None and not lat) else None,
                **_what_and_where(request.POST, category, lat, lng),
                urgent=bool(request.POST.get("urgent")) and grid is not None,
                files=files,
            )
        except DomainError as e:
            _raise_access(e)
            error = e
        else:
            messages.success(request, _("Reported as %(number)s. You can follow it here.") % {"number": order.number})
            return redirect("workorders:detail", order.pk)
    return render(request, "workorders/report.html", {
        "mode": "grid" if grid is not None else "resident",
        "groups": category_groups(),
        "category": category,
        "fields": attribute_fields(category, request.POST if request.method == "POST" else None, error.field if error else ""),
        "error": error,
        "data": request.POST,
        "geo": _geo_grids(user, grid),
        "grid": grid,
    })


@wo_view
@require_GET
def attribute_form(request):
    """The category's questions (htmx, when the category changes)."""
    category = pick_category(request.GET.get("category"))
    return render(request, "workorders/_attributes.html", {"fields": attribute_fields(category)})


@wo_view
@require_GET
def nearby_view(request):
    """Open orders of the same category within 50 m and 7 days (possible duplicates)."""
    g = request.GET
    found = access.nearby_orders(g.get("category"), g.get("lat"), g.get("lng"))
    visible = set()
    if found:
        visible = set(access.orders(request.user).filter(pk__in=[o.pk for o in found]).values_list("pk", flat=True))
    rows = [{
        "number": o.number,
        "title": o.title,
        "status": status_text(o.status),
        "reported_at": timezone.localtime(o.reported_at).strftime("%m-%d %H:%M"),
        "distance": o.distance,
        "url": reverse("workorders:detail", args=[o.pk]) if o.pk in visible else "",
    } for o in found]
    if g.get("format") == "json" or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"results": rows})
    return render(request, "workorders/_nearby.html", {"rows": rows})


@wo_view
def settle(request):
    """就地解决: a grid worker records a small matter and its settlement in one step."""
    user = request.user
    grid = _grid_of(user)
    if grid is None and not (_roles(user) & {Role.COMMUNITY_WORKER}):
        raise PermissionDenied
    category = pick_category(request.POST.get("category") or request.GET.get("category"))
    error = None
    if request.method == "POST":
        lat, lng = point(request.POST)
        try:
            order = services.settle_on_spot(
                user,
                region=grid if not lat else None,
                **_what_and_where(request.POST, category, lat, lng),
                note=text(request.POST, "note"),
                files=request.FILES.getlist("files"),
                after_files=request.FILES.getlist("after_files"),
            )
        except DomainError as e:
            _raise_access(e)
            error = e
        else:
            messages.success(request, _("Settled on the spot and recorded as %(number)s.") % {"number": order.number})
            return redirect("workorders:detail", order.pk)
    return render(request, "workorders/settle.html", {
        "groups": category_groups(settle_only=True),
        "category": category,
        "fields": attribute_fields(category, request.POST if request.method == "POST" else None, error.field if error else ""),
        "error": error,
        "data": request.POST,
        "geo": _geo_grids(user, grid),
        "grid": grid,
    })


@wo_view
def hotline(request):
    """A call taken by staff on a resident's behalf (source hotline)."""
    user = request.user
    paths = _area_paths(user, access.AREA_ROLES)
    category = pick_category(request.POST.get("category") or request.GET.get("category"))
    error = None
    resident = None
    if request.method == "POST":
        lat, lng = point(request.POST)
        try:
            id_number = text(request.POST, "id_number", 20)
            if id_number:
                from registry.services import find_by_id_number

                resident = find_by_id_number(id_number)
                if resident is None or not any(resident.region_path.startswith(p) for p in paths):
                    raise DomainError("resident_unknown", gettext_lazy("No resident with that ID number lives in your area."), field="id_number")
            region = _pick_region(user, request.POST.get("region"), set(access.AREA_ROLES))
            order = services.report(
                user,
                source=Source.HOTLINE,
                region=region if not lat else None,
                **_what_and_where(request.POST, category, lat, lng),
                urgent=bool(request.POST.get("urgent")),
                resident=resident,
                reporter_name=text(request.POST, "reporter_name", 50) or (resident.name if resident else ""),
                reporter_phone=text(request.POST, "reporter_phone", 20),
                files=request.FILES.getlist("files"),
            )
        except DomainError as e:
            _raise_access(e)
            error = e
        else:
            messages.success(request, _("Hotline call recorded as %(number)s.") % {"number": order.number})
            return redirect("workorders:detail", order.pk)
    return render(request, "workorders/hotline.html", {
        "groups": category_groups(),
        "category": category,
        "fields": attribute_fields(category, request.POST if request.method == "POST" else None, error.field if error else ""),
        "error": error,
        "data": request.POST,
        "regions": _region_choices(user, paths),
        "geo": _geo_grids(user),
    })


@wo_view
def assign(request):
    """上级交办: a street, bureau or department hands a task to a community or grid in its area."""
    user = request.user
    departments = access._departments(user)
    dispatch_paths = scope_paths(user, set(access.DISPATCH_ROLES))
    paths = dispatch_paths + [p for _d, p in departments if p]
    if not paths:
        raise PermissionDenied
    category = pick_category(request.POST.get("category") or request.GET.get("category"), kinds=[k for k in Kind.values])
    error = None
    if request.method == "POST":
        try:
            region = _pick_region(user, request.POST.get("region"), set(access.DISPATCH_ROLES) | {Role.DEPARTMENT_HANDLER})
            if region is None:
                raise DomainError("region_required", gettext_lazy("Choose the community or grid that should do it."), field="region")
            order = services.assign_down(
                user,
                category=category or request.POST.get("category") or None,
                region=region,
                title=text(request.POST, "title", 200),
                description=text(request.POST, "description"),
                urgent=bool(request.POST.get("urgent")),
                note=text(request.POST, "note"),
            )
        except DomainError as e:
            _raise_access(e)
            error = e
        else:
            messages.success(request, _("Assigned to %(place)s as %(number)s.") % {"place": order.handler_region.name, "number": order.number})
            return redirect("workorders:detail", order.pk)
    return render(request, "workorders/assign.html", {
        "groups": category_groups(kinds=[k for k in Kind.values if k != Kind.SERVICE]),
        "category": category,
        "error": error,
        "data": request.POST,
        "regions": _region_choices(user, paths, levels=(Level.COMMUNITY, Level.GRID)),
    })


# ------------------------------------------------------------------ my reports (resident)


@wo_view
def mine(request):
    qs = (
        WorkOrder.objects.filter(reporter=request.user).select_related("category")
        .only("id", "title", "status", "suspended_status", "reported_at", "category_id", "category__name").order_by("-id")
    )
    before = integer(request.GET.get("before"))
    if before:
        qs = qs.filter(pk__lt=before)
    orders = list(qs[: PAGE + 1])
    more = orders[PAGE - 1].pk if len(orders) > PAGE else None
    prefix = reverse("workorders:detail", args=[0])[:-2]
    rows = [{
        "url": f"{prefix}{o.pk}/",
        "title": o.title,
        "number": o.number,
        "category": o.category.name,
        "reported": timezone.localtime(o.reported_at).strftime("%Y-%m-%d %H:%M"),
        "ended": o.status in (Status.VOIDED, Status.DUPLICATE),
        "closed": o.status == Status.CLOSED,
        "status_text": status_text(o.status),
        "percent": progress(o)["percent"],
    } for o in orders[:PAGE]]
    return render(request, "workorders/mine.html", {"orders": rows, "more": more})


# ------------------------------------------------------------------ grid worker: my tasks


def _tasks(user, *, limit=PAGE):
    """(assigned to me, on my grid's desk, waiting for my verification)."""
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
    if limit is None:
        return desk_rows(mine_qs), desk_rows(desk), desk_rows(verify)
    return desk_rows(mine_qs)[:limit], desk_rows(desk)[:limit], desk_rows(verify)[:limit]


@wo_view
def tasks(request):
    user = request.user
    if not (_roles(user) & access.AREA_ROLES):
        raise PermissionDenied
    mine_qs, desk, verify = _tasks(user, limit=None)
    now = timezone.now()
    assigned, desk, verify = (_rows(row_values(qs, PAGE), now) for qs in (mine_qs, desk, verify))
    return render(request, "workorders/tasks.html", {
        "assigned": assigned,
        "desk": desk,
        "verify": verify,
        "assigned_html": _list_rows_html(assigned, _("Nothing given to you now.")),
        "desk_html": _list_rows_html(desk, _("The desk is clear.")),
        "verify_html": _list_rows_html(verify, _("Nothing waits for verification.")),
        "is_grid": Role.GRID_WORKER in _roles(user),
    })


# ------------------------------------------------------------------ dispatch board


class BoardFilter:
    def __init__(self, request, paths):
        g = request.GET
        self.status = g.get("status") or "open"
        if self.status not in {k for k, _l in BOARD_STATUSES}:
            self.status = "open"
        self.category = integer(g.get("category"))
        self.overdue = g.get("overdue") == "1"
        self.q = (g.get("q") or "").strip()[:100]
        self.place = None
        if g.get("place"):
            self.place = get_scoped(Region.objects.all(), request.user, g.get("place"), field="path")
        self.paths = paths

    def params(self, **extra) -> str:
        p = {"status": self.status, "category": self.category or "", "overdue": "1" if self.overdue else "", "q": self.q,
             "place": self.place.pk if self.place else ""}
        p.update(extra)
        return urlencode({k: v for k, v in p.items() if v not in ("", None)})

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


def _orders_on_desks(paths):
    """Orders whose handler unit lies in the given areas. The areas are the user's own
    (scope_paths), and an order's place always lies under its handler unit (routing puts the
    handler at or above the place, escalation only moves it up), so these rows are inside the
    user's scope; the query reads the (handler_region_path, status, id) index without the OR of
    access.orders_q, which would make the database scan the area twice."""
    return desk_rows(WorkOrder.objects.filter(_desk_q(paths)))


MAX_UNITS = 400


def _desk_q(paths) -> Q:
    """handler_region_path in the areas: as the list of the areas' units when there are not
    too many (a street: ~50), so the (handler_region_path, status, id) index is sought per unit
    and status instead of read along the whole area's range; as a prefix range otherwise."""
    units = list(Region.objects.filter(_any_prefix("path", paths)).values_list("path", flat=True)[: MAX_UNITS + 1])
    if len(units) <= MAX_UNITS:
        return Q(handler_region_path__in=units)
    return _any_prefix("handler_region_path", paths)


def board_queryset(user, f: BoardFilter):
    """The dispatch board: orders on the desks of the user's dispatch area, newest first."""
    return f.apply(_orders_on_desks(f.paths)).order_by("-id")


def inbox_queryset(user, f: BoardFilter):
    """A department's orders within each of the user's department areas (department index)."""
    q = Q(pk__in=[])
    for department, path in access._departments(user):
        if department:
            q |= Q(department=department) & prefix_q("region_path", path)
    qs = desk_rows(WorkOrder.objects.filter(q))
    return f.apply(qs).order_by("-id")


def overdue_queryset(user, paths):
    return (
        _orders_on_desks(paths).filter(status__in=OPEN_STATUSES)
        .filter(Q(overdue=True) | Q(due_at__lt=timezone.now())).order_by("due_at", "id")
    )


def _page(qs, request):
    """One page of a desk queryset (newest first) as row_values() dicts, and the id to go on from."""
    before = integer(request.GET.get("before"))
    if before:
        qs = qs.filter(pk__lt=before)
    rows = row_values(qs, PAGE + 1)
    more = rows[PAGE - 1]["id"] if len(rows) > PAGE else None
    return rows[:PAGE], more


def _assignee_choices(paths, limit: int = 100):
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
    for user_id, display, username, role, place in rows:
        if user_id in seen:
            continue
        seen.add(user_id)
        out.append({"id": user_id, "label": f"{display or username} · {roles.get(role, role)} · {place}"})
    return out[:limit]


def _departments_near(paths) -> list[str]:
    """Departments with a handler whose area holds (or lies within) the given area."""
    prefixes = set()
    for p in paths:
        prefixes.update(p[:i] for i in range(Region.steplen, len(p) + 1, Region.steplen))
    qs = RoleAssignment.objects.filter(role=Role.DEPARTMENT_HANDLER).filter(Q(region_path__in=prefixes) | _any_prefix("region_path", paths))
    return sorted({d for d in qs.values_list("department", flat=True) if d})


def _places(paths):
    """The places one and two levels below the user's area (a filter list, not the whole tree)."""
    top = min(len(p) for p in paths) // Region.steplen
    levels = [lv for lv in (top + 1, top + 2) if lv <= Level.GRID] or [Level.GRID]
    return _region_choices(None, paths, levels=levels, limit=500)


def _board_rows_html(rows: list[dict], bulk: bool) -> str:
    """The board's table rows as HTML, from _rows() dicts (the markup of board.html's table).
    Built here rather than in a template loop: at 50 rows the loop's ~20 lookups, conditions
    and escapes per row made a full desk twice as slow as a quiet one."""
    urgent = f' <span class="badge urgent">{escape(_("Urgent"))}</span>'
    select = escape(_("Select"))
    out = []
    for o in rows:
        number, url = escape(o["number"]), o["url"]
        tr = '<tr class="is-overdue">' if o["overdue"] else "<tr>"
        tick = ""
        if bulk:
            box = f'<input type="checkbox" name="ids" value="{o["pk"]}" aria-label="{select} {number}">' if o["filed"] else ""
            tick = f"<td>{box}</td>"
        badge = urgent if o["urgent"] else ""
        address = f'<br class="wide-only"><span class="muted small"> {escape(o["address"])}</span>' if o["address"] else ""
        late = "late" if o["overdue"] else ""
        left = f'<span class="{late}">{escape(o["left"])}</span>' if o["left"] else "—"
        out.append(
            f"{tr}\n      {tick}\n"
            f'      <td class="mono nowrap"><a href="{url}">{number}</a></td>\n'
            f'      <td><a href="{url}">{escape(o["title"])}</a>{badge}'
            f'<br><span class="muted small">{escape(o["category"])} · {escape(o["source"])}</span></td>\n'
            f'      <td class="c-inline"><span class="badge st-{escape(o["status"])}">{escape(o["status_text"])}</span></td>\n'
            f'      <td class="c-inline">{escape(o["region"])}{address}</td>\n'
            f'      <td class="c-inline">{escape(o["handler"])}</td>\n'
            f'      <td class="c-inline nowrap">{left}</td>\n'
            "    </tr>"
        )
    return mark_safe("".join(out))


def _list_rows_html(rows: list[dict], empty: str) -> str:
    """A desk list's items as HTML, from _rows() dicts (my tasks, the overdue board), or the
    `empty` line when there are none; built here for the same reason as the board's rows."""
    if not rows:
        return mark_safe(f'<li class="muted">{escape(empty)}</li>')
    urgent = f' <span class="badge urgent">{escape(_("Urgent"))}</span>'
    out = []
    for o in rows:
        late = " is-overdue" if o["overdue"] else ""
        badge = urgent if o["urgent"] else ""
        address = f' · {escape(o["address"])}' if o["address"] else ""
        left = ""
        if o["left"]:
            left = f'<span class="row-meta due{" late" if o["overdue"] else ""}">{escape(o["left"])}</span>'
        out.append(
            f'<li class="wo-row{late}"><a href="{o["url"]}">\n'
            f'  <span class="row-main">{escape(o["title"])} <span class="badge st-{escape(o["status"])}">{escape(o["status_text"])}</span>{badge}</span>\n'
            f'  <span class="row-meta"><span class="mono">{escape(o["number"])}</span> · {escape(o["category"])} · {escape(o["region"])}{address}</span>\n'
            f"  {left}\n"
            "</a></li>\n"
        )
    return mark_safe("".join(out))


def _option(value, label, selected=False, indent=False) -> str:
    return f'<option value="{escape(value)}"{" selected" if selected else ""}>{"　" if indent else ""}{escape(label)}</option>'


def _filter_options(f: BoardFilter, groups, places) -> dict:
    """The board's <option> lists as ready HTML: a street's board offers ~200 options (categories,
    places, people), and a template loop spends more on them than on the 50 rows."""
    place = f.place.pk if f.place else None
    return {
        "category_options": mark_safe("".join(
            f'<optgroup label="{escape(label)}">' + "".join(_option(c["pk"], c["name"], f.category == c["pk"]) for c in cats) + "</optgroup>"
            for label, cats in groups
        )),
        "place_options": mark_safe("".join(_option(r["pk"], r["name"], place == r["pk"], r["level"] == Level.GRID) for r in places)),
    }


@wo_view
def board(request):
    user = request.user
    paths = _area_paths(user, access.DISPATCH_ROLES)
    f = BoardFilter(request, paths)
    rows, more = _page(board_queryset(user, f), request)
    rows = _rows(rows)
    ctx = {
        "f": f,
        "rows": rows,
        "rows_html": _board_rows_html(rows, bulk=True),
        "more": more,
        "statuses": BOARD_STATUSES,
        **_filter_options(f, category_groups(kinds=list(Kind.values)), _places(paths)),
        "assignee_options": mark_safe("".join(_option(a["id"], a["label"]) for a in _assignee_choices([f.place.path] if f.place else paths))),
        "department_options": mark_safe("".join(_option(d, d) for d in _departments_near(paths))),
        "export_url": reverse("workorders:export", args=["board"]) + "?" + f.params(),
        "title": _("Dispatch board"),
        "board": "board",
        "bulk": True,
    }
    return render(request, "workorders/board.html", ctx)


@wo_view
def inbox(request):
    user = request.user
    if not any(d for d, _p in access._departments(user)):
        raise PermissionDenied
    paths = [p for _d, p in access._departments(user)]
    f = BoardFilter(request, paths)
    rows, more = _page(inbox_queryset(user, f), request)
    rows = _rows(rows)
    return render(request, "workorders/board.html", {
        "f": f,
        "rows": rows,
        "rows_html": _board_rows_html(rows, bulk=False),
        "more": more,
        "statuses": BOARD_STATUSES,
        **_filter_options(f, category_groups(kinds=list(Kind.values)), _places(paths)),
        "export_url": reverse("workorders:export", args=["inbox"]) + "?" + f.params(),
        "title": _("Department inbox"),
        "board": "inbox",
        "bulk": False,
    })


@wo_view
@require_POST
def bulk_dispatch(request):
    """Several filed orders to one assignee; each in its own service call, so one refusal does
    not stop the others. The page then says, order by order, what happened."""
    user = request.user
    paths = _area_paths(user, access.DISPATCH_ROLES)
    ids = [i for i in (integer(v) for v in request.POST.getlist("ids")) if i][:200]
    assignee = None
    department = text(request.POST, "department", 100)
    assignee_id = integer(request.POST.get("assignee"))
    if assignee_id:
        assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
    results = []
    if not ids:
        messages.error(request, _("Tick the work orders to dispatch."))
        return redirect(reverse("workorders:board") + "?" + request.POST.get("back", ""))
    if assignee is None and not department:
        messages.error(request, _("Choose who handles them: a person or a department."))
        return redirect(reverse("workorders:board") + "?" + request.POST.get("back", ""))
    visible = {o.pk: o for o in _orders_on_desks(paths).filter(pk__in=ids)}
    note = text(request.POST, "note")
    for pk in ids:
        order = visible.get(pk)
        if order is None:
            results.append({"number": str(pk), "ok": False, "message": _("Not found, or outside your area.")})
            continue
        try:
            services.dispatch(user, order, assignee=assignee, department=department if assignee is None else "", note=note)
        except DomainError as e:
            results.append({"order": order, "number": order.number, "ok": False, "message": e.text()})
        else:
            results.append({"order": order, "number": order.number, "ok": True, "message": _("Dispatched")})
    done = sum(1 for r in results if r["ok"])
    return render(request, "workorders/bulk_result.html", {
        "results": results, "done": done, "failed": len(results) - done,
        "assignee": assignee, "department": department, "back": request.POST.get("back", ""),
    })


# ------------------------------------------------------------------ overdue board (supervisors)


@wo_view
def overdue(request):
    user = request.user
    paths = _area_paths(user, access.DISPATCH_ROLES)
    now = timezone.now()
    qs = overdue_queryset(user, paths)
    after = integer(request.GET.get("after"))
    if after:
        last = WorkOrder.objects.filter(pk=after).values_list("due_at", flat=True).first()
        if last is not None:
            qs = qs.filter(Q(due_at__gt=last) | Q(due_at=last, pk__gt=after))
    rows = row_values(qs, PAGE + 1, ids_first=True)
    more = rows[PAGE - 1]["id"] if len(rows) > PAGE else None
    notices = list(
        SupervisionNotice.objects.filter(_any_prefix("region_path", paths), resolved_at__isnull=True)
        .select_related("order", "region")
        .only("id", "stage", "due_at", "created_at", "region_id", "region__name", "order_id", "order__title", "order__status", "order__reported_at")
        .order_by("created_at", "id")[:100]
    )
    for n in notices:
        n.left = time_left(n.due_at, now)
    rows = _rows(rows[:PAGE], now)
    return render(request, "workorders/overdue.html", {
        "rows": rows,
        "rows_html": _list_rows_html(rows, _("Nothing is overdue.")),
        "more": more,
        "notices": notices,
        "export_url": reverse("workorders:export", args=["overdue"]),
    })


# ------------------------------------------------------------------ the order page


def _candidates(order):
    """Who may be given this order: staff of the handler unit's subtree holding its place."""
    start = len(order.handler_region_path)
    prefixes = [order.region_path[:i] for i in range(start, len(order.region_path) + 1, Region.steplen)] or [order.region_path]
    ras = (
        RoleAssignment.objects.filter(region_path__in=prefixes, role__in=[Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.STREET_OFFICER])
        .select_related("user", "region").order_by("-region_path", "user__username")[:100]
    )
    seen, out = set(), []
    for ra in ras:
        if ra.user_id not in seen and ra.user.is_active:
            seen.add(ra.user_id)
            out.append({"id": ra.user_id, "label": f"{ra.user} · {ra.get_role_display()} · {ra.region.name}"})
    return out


def _actions(user, order) -> dict:
    s = order.status
    dispatcher = access.is_dispatcher(user, order)
    handler = access.is_handler(user, order)
    verifier = access.is_verifier(user, order)
    reporter = access.is_reporter(user, order)
    reporter_window = (
        reporter and s == Status.CLOSED and order.closed_at is not None
        and timezone.now() - order.closed_at <= dt.timedelta(days=services.REOPEN_DAYS)
    )
    verify_needed = order.kind not in (Kind.SERVICE, Kind.MEDIATION)
    can = {
        "file": dispatcher and s == Status.REPORTED,
        "void": dispatcher and s == Status.REPORTED,
        "duplicate": dispatcher and s == Status.REPORTED,
        "dispatch": dispatcher and s in (Status.FILED, Status.DISPATCHED, Status.IN_PROGRESS),
        "start": handler and s == Status.DISPATCHED,
        "handle": handler and s in (Status.DISPATCHED, Status.IN_PROGRESS),
        "more_time": handler and s in (Status.DISPATCHED, Status.IN_PROGRESS),
        "escalate": handler and not order.department and s in (Status.REPORTED, Status.FILED, Status.DISPATCHED, Status.IN_PROGRESS),
        "verify": verifier and s == Status.HANDLED and verify_needed,
        "close": dispatcher and (s == Status.VERIFIED or (s == Status.HANDLED and not verify_needed)),
        "resume": dispatcher and s == Status.SUSPENDED,
        "confirm": reporter_window and not order.transitions.filter(action="confirm").exists(),
        "rate": reporter_window,
        "reopen": reporter_window,
    }
    if can["rate"]:
        can["rate"] = not Rating.objects.filter(order=order).exists()
    can["any"] = any(can.values())
    return can


@wo_view
def detail(request, pk):
    user = request.user
    order = access.order(user, pk)
    transitions = list(order.transitions.select_related("actor").prefetch_related("attachments"))
    labels = {**ACTIONS, **hooks.timeline_labels()}  # steps other apps record (mediation) by their own names
    for t in transitions:
        t.label = labels.get(t.action, t.action)
        t.from_label = status_text(t.from_status) if t.from_status else ""
        t.to_label = status_text(t.to_status)
    attachments = list(order.attachments.all())
    before = [a for a in attachments if a.role in (AttachmentRole.BEFORE, AttachmentRole.MATERIAL, AttachmentRole.OTHER)]
    after = [a for a in attachments if a.role == AttachmentRole.AFTER]
    can = _actions(user, order)
    order.status_text = status_text(order.status)
    pending = ApprovalRequest.objects.filter(order=order, status=RequestStatus.PENDING).select_related("requested_by").first()
    attrs = []
    by_code = {a.code: a for a in order.category.attributes.all()}
    for code, value in (order.attributes or {}).items():
        a = by_code.get(code)
        names = {str(v.get("key")): v.get("name") for v in (a.values if a else []) or []}
        shown = "、".join(names.get(str(v), str(v)) for v in value) if isinstance(value, list) else names.get(str(value), str(value))
        attrs.append({"question": a.description if a else code, "value": shown})
    rating = Rating.objects.filter(order=order).first()
    ctx = {
        "order": order,
        "transitions": transitions,
        "before": before,
        "after": after,
        "can": can,
        "pending": pending,
        "can_decide": pending is not None and access.is_dispatcher(user, order),
        "attrs": attrs,
        "stage_left": time_left(order.due_at) if order.is_open and order.status != Status.SUSPENDED else None,
        "deadline_left": time_left(order.deadline) if order.is_open and order.status != Status.SUSPENDED else None,
        "progress": progress(order),
        "candidates": _candidates(order) if can["dispatch"] else [],
        "departments": _departments_near([order.region_path]) if can["dispatch"] or can["escalate"] else [],
        "rating": rating,
        "point": {"lat": order.lat, "lng": order.lng} if order.lat is not None and order.lng is not None else None,
        "area": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": order.region.name}, "geometry": order.region.boundary}
        ]} if order.region.boundary else None,
        "request_kinds": RequestKind.choices,
        "reporter_sees_only": access.is_reporter(user, order) and not (_roles(user) & set(STAFF_ROLES)),
        "record_links": hooks.record_links(order),
    }
    return render(request, "workorders/detail.html", ctx)


def _act(user, order, action, post, files):
    """Run one step through the services; returns the success message."""
    v = _version_of(post)
    note = text(post, "note")
    if action == "file":
        services.file(user, order, note=note, urgent=bool(post.get("urgent")) if "urgent_set" in post else None, version=v)
        return _("Filed.")
    if action == "void":
        services.void(user, order, note=note, version=v)
        return _("Voided.")
    if action == "duplicate":
        of = WorkOrder.pk_from_number(text(post, "of", 20)) or integer(post.get("of"))
        services.mark_duplicate(user, order, of=of, note=note, version=v)
        return _("Marked as a duplicate.")
    if action == "dispatch":
        assignee = None
        if integer(post.get("assignee")):
            assignee = User.objects.filter(pk=integer(post.get("assignee")), is_active=True).first()
        services.dispatch(user, order, assignee=assignee, department=text(post, "department", 100) if assignee is None else "", note=note, version=v)
        return _("Dispatched.")
    if action == "start":
        services.start(user, order, note=note, version=v)
        return _("Started.")
    if action == "handle":
        services.handle(user, order, note=note, files=files.getlist("files"), version=v)
        return _("Reported as handled; it now waits for verification.")
    if action == "verify":
        passed = post.get("passed") == "1"
        services.verify(user, order, passed=passed, note=note, files=files.getlist("files"), version=v)
        return _("Verified.") if passed else _("Sent back for rework.")
    if action == "close":
        services.close(user, order, note=note, version=v)
        return _("Closed.")
    if action == "more_time":
        services.request_more_time(user, order, kind=post.get("kind", ""), reason=text(post, "reason"), hours=post.get("hours") or None, version=v)
        return _("Your request was sent to the dispatcher.")
    if action == "decide":
        req = ApprovalRequest.objects.filter(pk=integer(post.get("request")), order=order).first()
        if req is None:
            raise NotFound("not_found", gettext_lazy("Not found, or outside your area."))
        approve = post.get("approve") == "1"
        services.decide(user, req, approve=approve, note=note)
        return _("Approved.") if approve else _("Refused.")
    if action == "resume":
        services.resume(user, order, note=note, version=v)
        return _("Resumed.")
    if action == "escalate":
        services.escalate(user, order, note=note, department=text(post, "department", 100), version=v)
        return _("Escalated.")
    if action == "confirm":
        services.confirm(user, order, note=note)
        return _("Thank you for confirming.")
    if action == "rate":
        services.rate(user, order, score=post.get("score"), comment=text(post, "comment", 1000))
        return _("Thank you for your rating.")
    if action == "reopen":
        services.reopen(user, order, reason=text(post, "reason"))
        return _("Reopened; it goes back to the desk.")
    raise Http404


def _version_of(post):
    return integer(post.get("version"))


@wo_view
@require_POST
def act(request, pk, action):
    user = request.user
    order = access.order(user, pk)
    try:
        msg = _act(user, order, action, request.POST, request.FILES)
    except Conflict as e:
        messages.error(request, e.text(), extra_tags="conflict")
    except DomainError as e:
        _raise_access(e)
        messages.error(request, e.text())
    else:
        messages.success(request, msg)
    nxt = request.POST.get("next") or ""
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect("workorders:detail", order.pk)


@wo_view
@require_GET
def attachment(request, pk, att, kind="file"):
    """An attachment of an order the user may see (never a bare media URL)."""
    order = access.order(request.user, pk)
    a = Attachment.objects.filter(pk=att, order=order).first()
    if a is None:
        raise Http404
    f = a.thumbnail if kind == "thumb" and a.thumbnail else a.file
    try:
        handle = f.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404
    response = FileResponse(handle, content_type="image/jpeg" if f is a.thumbnail else a.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# ------------------------------------------------------------------ notifications


@wo_view
def notifications(request):
    user = request.user
    if request.method == "POST":
        ids = [i for i in (integer(v) for v in request.POST.getlist("ids")) if i]
        n = notify.mark_read(user, ids or None)
        messages.success(request, _("%(n)s marked as read.") % {"n": n})
        return redirect("workorders:notifications")
    qs = Notification.objects.filter(user=user).select_related("order").order_by("-at", "-id")
    if request.GET.get("unread") == "1":
        qs = qs.filter(read_at__isnull=True)
    before = integer(request.GET.get("before"))
    if before:
        last = Notification.objects.filter(pk=before, user=user).values_list("at", flat=True).first()
        if last is not None:
            qs = qs.filter(Q(at__lt=last) | Q(at=last, pk__lt=before))
    rows = list(qs[: PAGE + 1])
    more = rows[PAGE - 1].pk if len(rows) > PAGE else None
    return render(request, "workorders/notifications.html", {
        "rows": rows[:PAGE],
        "more": more,
        "unread": notify.unread_count(user),
        "only_unread": request.GET.get("unread") == "1",
    })


@wo_view
@require_POST
def notification_open(request, pk):
    """Open one notification: mark it read and go to its order."""
    n = Notification.objects.filter(pk=pk, user=request.user).first()
    if n is None:
        raise Http404
    notify.mark_read(request.user, [n.pk])
    if n.order_id:
        return redirect("workorders:detail", n.order_id)
    return redirect("workorders:notifications")


# ------------------------------------------------------------------ exports


@wo_view
@require_GET
def export(request, which):
    from . import exports

    user = request.user
    if which == "board":
        paths = _area_paths(user, access.DISPATCH_ROLES)
        qs = board_queryset(user, BoardFilter(request, paths))
        name = _("Dispatch board")
    elif which == "inbox":
        if not any(d for d, _p in access._departments(user)):
            raise PermissionDenied
        paths = [p for _d, p in access._departments(user)]
        qs = inbox_queryset(user, BoardFilter(request, paths))
        name = _("Department inbox")
    elif which == "overdue":
        paths = _area_paths(user, access.DISPATCH_ROLES)
        qs = overdue_queryset(user, paths)
        name = _("Overdue work orders")
    elif which == "tasks":
        if not (_roles(user) & access.AREA_ROLES):
            raise PermissionDenied
        mine_qs, desk, verify = _tasks(user, limit=10_000)
        ids = [o.pk for o in mine_qs] + [o.pk for o in desk] + [o.pk for o in verify]
        qs = access.orders(user).filter(pk__in=ids).order_by("-id")
        name = _("My tasks")
    elif which == "ledger":
        paths = _area_paths(user, access.AREA_ROLES | {Role.DEPARTMENT_HANDLER})
        start, end = exports.period(request.GET.get("from"), request.GET.get("to"))
        place = get_scoped(Region.objects.all(), user, request.GET["place"], field="path") if request.GET.get("place") else None
        qs = access.orders(user).filter(reported_at__gte=start, reported_at__lt=end)
        if place is not None:
            qs = qs.filter(prefix_q("region_path", place.path))
        qs = qs.order_by("id")
        name = _("Problem ledger")
    else:
        raise Http404
    return exports.response(qs, name, ledger=(which == "ledger"))


@wo_view
def ledger(request):
    """The problem ledger (问题台账): choose the place and the period, then download."""
    user = request.user
    paths = _area_paths(user, access.AREA_ROLES | {Role.DEPARTMENT_HANDLER})
    today = timezone.localdate()
    return render(request, "workorders/ledger.html", {
        "places": _places(paths),
        "start": today.replace(day=1).isoformat(),
        "end": today.isoformat(),
    })
