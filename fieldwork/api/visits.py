"""Visits and 三必 over JSON, mounted at /api/fieldwork/: the caller's due list, recording and
listing visits, a household's visit history, and arriving at a must-attend order.

Handlers parse, call fieldwork.services and render; rows come through fieldwork/access.py, so
an id outside the caller's area answers 404. Errors are `{"code", "message", "message_en",
"field"}`.
"""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from linli.errors import DomainError, Forbidden
from linli.paging import keyset
from linli.schemas import errors
from regions import access as regions_access
from registry import access as registry_access

from .. import access, services
from ..models import Visit, VisitKind
from ..services import dues

router = Router(tags=["fieldwork"])

MAX_LIMIT = 200


# ---------------------------------------------------------------- due list


class DueItemOut(Schema):
    rule: str
    rule_code: str
    must_visit: bool
    period_start: dt.date
    period_end: dt.date
    required: int
    done: int
    due_on: dt.date | None
    last_visit_on: dt.date | None


class DueHouseholdOut(Schema):
    household_id: int
    grid_id: int
    address: str
    head: str
    state: str = Field(..., description="overdue | due | done")
    due_on: dt.date | None
    days_overdue: int
    weight: int
    tags: list[str]
    items: list[DueItemOut]


class DueOut(Schema):
    today: dt.date
    counts: dict[str, int]
    items: list[DueHouseholdOut]


@router.get("/due", response={200: DueOut, **errors()}, summary="My due list: overdue first, then due, then done this period")
def due_list(request, grid_id: int | None = None):
    user = request.auth
    today = timezone.localdate()
    if grid_id is not None:
        grid_ids = [access.grid(user, grid_id).pk]
    else:
        grid_ids = access.worker_grid_ids(user)
        if not grid_ids:
            raise Forbidden("not_grid_worker", _("Only grid workers have a due list; staff above a grid name the grid."))
    entries = dues.due_list(grid_ids, today)
    tags = access.household_tags([e.household.pk for e in entries])
    counts = {"overdue": 0, "due": 0, "done": 0}
    out = []
    for e in entries:
        state = e.state(today)
        counts[state] += 1
        house = e.household.house
        out.append({
            "household_id": e.household.pk,
            "grid_id": e.items[0].grid_id,
            "address": f"{house.building.estate}{house.building.label}{house.unit}单元{house.room}室",
            "head": e.household.head.name if e.household.head_id and e.household.head else "",
            "state": state,
            "due_on": e.due_on,
            "days_overdue": e.days_overdue(today),
            "weight": e.weight,
            "tags": tags.get(e.household.pk, []),
            "items": [{
                "rule": i.rule.name, "rule_code": i.rule.code, "must_visit": i.rule.must_visit, "period_start": i.period_start,
                "period_end": i.period_end, "required": i.required, "done": i.done, "due_on": i.due_on, "last_visit_on": i.last_visit_on,
            } for i in e.items],
        })
    return {"today": today, "counts": counts, "items": out}


# ---------------------------------------------------------------- visits


class VisitIn(Schema):
    household: int
    visited_at: str | None = Field(None, description="ISO date-time; now when left out. Not in the future, not older than 60 days.")
    kind: str = Field(VisitKind.ROUTINE, description="routine | care | must | follow_up")
    met: list[int] = Field(default_factory=list, description="Ids of the household's members who were met.")
    met_note: str = ""
    nobody_home: bool = False
    notes: str = ""
    findings: str = ""
    finding_category: str | None = Field(None, description="A category code or id: the finding becomes a work order in the same step.")
    finding_title: str = ""
    finding_urgent: bool = False
    follows_order: int | None = None
    follows_case: int | None = None
    lat: float | None = None
    lng: float | None = None
    files: list[str] = Field(default_factory=list, description="Photos as data URLs (data:image/jpeg;base64,...).")
    client_key: str = Field("", description="Idempotency key: a second call with the same key returns the first visit.")


class VisitOut(Schema):
    id: int
    household_id: int
    grid_id: int
    worker: str
    visited_at: dt.datetime
    kind: str
    met: list[int]
    met_note: str
    nobody_home: bool
    notes: str
    findings: str
    order_id: int | None
    order_number: str | None
    follows_order_id: int | None
    follows_case_id: int | None
    lat: float | None
    lng: float | None
    photos: int
    client_key: str


def _visit(v: Visit, *, detail: bool = True) -> dict:
    return {
        "id": v.pk,
        "household_id": v.household_id,
        "grid_id": v.region_id,
        "worker": str(v.worker),
        "visited_at": v.visited_at,
        "kind": v.kind,
        "met": [m.pk for m in v.met.all()] if detail else [],
        "met_note": v.met_note,
        "nobody_home": v.nobody_home,
        "notes": v.notes,
        "findings": v.findings,
        "order_id": v.order_id,
        "order_number": v.order.number if v.order_id else None,
        "follows_order_id": v.follows_order_id,
        "follows_case_id": v.follows_case_id,
        "lat": v.lat,
        "lng": v.lng,
        "photos": v.photos.count() if detail else 0,
        "client_key": v.client_key,
    }


@router.post("/visits", response={201: VisitOut, 200: VisitOut, **errors()}, summary="Record a visit (a replayed client_key returns the first visit with 200)")
def create_visit(request, payload: VisitIn):
    user = request.auth
    data = payload.model_dump()
    key = data.get("client_key") or ""
    replay = bool(key) and access.has_visit_key(user, key)
    visit = services.record_visit(user, **data)
    return Status(200 if replay else 201, _visit(visit))


class VisitPage(Schema):
    items: list[VisitOut]
    next_after: int | None


class VisitQuery(Schema):
    grid_id: int | None = None
    worker_id: int | None = None
    kind: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    after: int | None = Field(None, description="The next_after of the previous page.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


def _page(qs, q: VisitQuery) -> dict:
    page = keyset(qs.select_related("worker", "order").prefetch_related("met"), after=q.after, limit=q.limit, order=("-id",))
    return {"items": [_visit(v, detail=False) | {"met": [m.pk for m in v.met.all()]} for v in page], "next_after": page.next_after}


@router.get("/visits", response={200: VisitPage, **errors()}, summary="Visits in my area, newest first (keyset pages)")
def list_visits(request, q: Query[VisitQuery]):
    user = request.auth
    place = regions_access.place(user, q.grid_id) if q.grid_id is not None else None
    if q.kind and q.kind not in VisitKind.values:
        raise DomainError("kind_invalid", _("Choose the kind of visit."), field="kind")
    qs = access.filter_visits(
        access.visits(user), within=place.path if place is not None else "", worker_id=q.worker_id, kind=q.kind or "",
        since=q.since, until=q.until,
    )
    return _page(qs, q)


@router.get("/visits/{visit_id}", response={200: VisitOut, **errors()}, summary="One visit")
def get_visit(request, visit_id: int):
    return _visit(access.visit(request.auth, visit_id))


@router.get("/households/{household_id}/visits", response={200: VisitPage, **errors()}, summary="A household's visits, newest first")
def household_visits(request, household_id: int, q: Query[VisitQuery]):
    user = request.auth
    household = registry_access.household(user, household_id)
    return _page(access.visits(user).filter(household=household), q)


# ---------------------------------------------------------------- must attend


class AttendIn(Schema):
    arrived_at: str | None = None
    lat: float | None = None
    lng: float | None = None
    note: str = ""
    client_key: str = ""


class AttendanceOut(Schema):
    id: int
    order_id: int
    worker: str
    reported_at: dt.datetime
    arrived_at: dt.datetime
    seconds: int
    lat: float | None
    lng: float | None


@router.post("/attend/{order_id}", response={200: AttendanceOut, **errors()}, summary="Arrived at a must-attend order (idempotent: a second arrival returns the first)")
def arrive(request, order_id: int, payload: AttendIn | None = None):
    p = payload or AttendIn()
    a = services.arrive(request.auth, order_id, arrived_at=p.arrived_at, lat=p.lat, lng=p.lng, note=p.note, client_key=p.client_key)
    return {
        "id": a.pk, "order_id": a.order_id, "worker": str(a.worker), "reported_at": a.reported_at, "arrived_at": a.arrived_at,
        "seconds": a.seconds, "lat": a.lat, "lng": a.lng,
    }
