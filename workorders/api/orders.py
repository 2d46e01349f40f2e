"""The caller's orders: a keyset page of those they may see, one with its timeline and files, a
new report (or a small matter settled on the spot), and every step of the lifecycle as
`POST /orders/{id}/<action>`, its `version` compared by the service."""

import datetime as dt
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from accounts.access import roles
from accounts.models import Role
from linli.errors import DomainError, NotFound
from linli.paging import keyset
from linli.schemas import errors
from regions.models import Region
from regions.schemas import RegionRef, region_ref

from .. import access, services
from ..models import OPEN_STATUSES, Source, WorkOrder
from ..models import Status as OrderStatus
from .bodies import MAX_LIMIT, body, parse
from .categories import CategoryRef, category_ref

router = Router()


class PersonRef(Schema):
    id: int
    name: str


class OrderOut(Schema):
    id: int
    number: str
    token: str
    category: CategoryRef
    kind: str
    status: str
    status_label: str
    priority: str
    source: str
    title: str
    region: RegionRef
    handler_region: RegionRef
    department: str
    assignee: PersonRef | None
    lat: float | None
    lng: float | None
    address: str
    reporter_name: str
    reporter_phone: str = Field(..., description="Masked (138****5678).")
    reported_at: dt.datetime
    stage: str
    due_at: dt.datetime | None
    deadline: dt.datetime | None
    overdue: bool
    closed_at: dt.datetime | None
    version: int
    updated_at: dt.datetime


class OrderPage(Schema):
    items: list[OrderOut]
    next_after: int | None


class TransitionOut(Schema):
    id: int
    action: str
    from_status: str
    to_status: str
    actor: PersonRef | None
    at: dt.datetime
    note: str
    data: dict


class AttachmentOut(Schema):
    id: int
    role: str
    url: str
    thumbnail_url: str | None
    content_type: str
    size: int
    name: str
    transition_id: int | None
    at: dt.datetime


class RequestOut(Schema):
    id: int
    kind: str
    reason: str
    hours: int | None
    status: str
    requested_by: PersonRef | None
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str


class RatingOut(Schema):
    score: int
    comment: str
    at: dt.datetime


class OrderDetail(OrderOut):
    description: str
    attributes: dict
    duplicate_of: int | None
    rework_count: int
    extension_count: int
    escalation_count: int
    supervision_count: int
    settled_on_spot: bool
    transitions: list[TransitionOut]
    attachments: list[AttachmentOut]
    requests: list[RequestOut]
    rating: RatingOut | None


def _person(user) -> dict | None:
    return {"id": user.pk, "name": str(user)} if user is not None else None


def _order(o: WorkOrder) -> dict:
    return {
        "id": o.pk,
        "number": o.number,
        "token": str(o.token),
        "category": category_ref(o.category),
        "kind": o.kind,
        "status": o.status,
        "status_label": str(OrderStatus(o.status).label),
        "priority": o.priority,
        "source": o.source,
        "title": o.title,
        "region": region_ref(o.region),
        "handler_region": region_ref(o.handler_region),
        "department": o.department,
        "assignee": _person(o.assignee) if o.assignee_id else None,
        "lat": o.lat,
        "lng": o.lng,
        "address": o.address,
        "reporter_name": o.reporter_name,
        "reporter_phone": o.reporter_phone_masked,
        "reported_at": o.reported_at,
        "stage": o.stage,
        "due_at": o.due_at,
        "deadline": o.deadline,
        "overdue": o.overdue,
        "closed_at": o.closed_at,
        "version": o.version,
        "updated_at": o.updated_at,
    }


def _url(request, field) -> str | None:
    if not field:
        return None
    return request.build_absolute_uri(field.url)


def _detail(request, o: WorkOrder) -> dict:
    out = _order(o)
    record = access.order_record(o)
    transitions, attachments, reqs, rating = record["transitions"], record["attachments"], record["requests"], record["rating"]
    out.update(
        description=o.description,
        attributes=o.attributes or {},
        duplicate_of=o.duplicate_of_id,
        rework_count=o.rework_count,
        extension_count=o.extension_count,
        escalation_count=o.escalation_count,
        supervision_count=o.supervision_count,
        settled_on_spot=o.settled_on_spot,
        transitions=[
            {"id": t.pk, "action": t.action, "from_status": t.from_status, "to_status": t.to_status,
             "actor": _person(t.actor) if t.actor_id else None, "at": t.at, "note": t.note, "data": t.data or {}}
            for t in transitions
        ],
        attachments=[
            {"id": a.pk, "role": a.role, "url": _url(request, a.file), "thumbnail_url": _url(request, a.thumbnail),
             "content_type": a.content_type, "size": a.size, "name": a.name, "transition_id": a.transition_id, "at": a.at}
            for a in attachments
        ],
        requests=[
            {"id": r.pk, "kind": r.kind, "reason": r.reason, "hours": r.hours, "status": r.status,
             "requested_by": _person(r.requested_by) if r.requested_by_id else None, "requested_at": r.requested_at,
             "decided_at": r.decided_at, "decision_note": r.decision_note}
            for r in reqs
        ],
        rating={"score": rating.score, "comment": rating.comment, "at": rating.at} if rating else None,
    )
    return out


def _after_step(request, order_id: int, fallback: WorkOrder | None = None) -> dict:
    o = access.orders(request.auth).filter(pk=order_id).first() or fallback
    if o is None:
        raise NotFound("not_found", _("Not found, or outside your area."))
    return _detail(request, o)


# ---------------------------------------------------------------- orders: list and detail

class OrderQuery(Schema):
    after: int | None = Field(None, description="The `next_after` of the previous page (pages run newest first).")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    status: str | None = Field(None, description="Comma-separated statuses, or `open` / `ended`.")
    category: str | None = Field(None, description="A category code; a group takes its whole subtree.")
    overdue: bool | None = None
    region_id: int | None = Field(None, description="Orders whose place lies in this region (within your area).")
    desk_id: int | None = Field(None, description="Orders held at this unit's desk (handler region).")
    department: str | None = Field(None, description="Orders held by this department.")
    mine: Literal["reported", "assigned"] | None = Field(None, description="`reported`: my reports; `assigned`: assigned to me.")


def _statuses(raw: str) -> list[str]:
    out: list[str] = []
    for word in (w.strip() for w in raw.split(",") if w.strip()):
        if word == "open":
            out += list(OPEN_STATUSES)
        elif word == "ended":
            out += [OrderStatus.CLOSED, OrderStatus.VOIDED, OrderStatus.DUPLICATE]
        elif word in OrderStatus.values:
            out.append(word)
        else:
            raise DomainError("status_unknown", _("There is no status called %(word)s."), field="status", word=word)
    return out


@router.get(
    "/orders", response={200: OrderPage, **errors()}, summary="Work orders you may see, newest first",
    operation_id="workorders_api_list_orders",
)
def list_orders(request, q: Query[OrderQuery]):
    user = request.auth
    qs = access.order_list(
        user,
        statuses=_statuses(q.status) if q.status else None,
        category_ids=access.descendant_ids(access.category_by_code(q.category)) if q.category else None,
        overdue=q.overdue,
        region=access.place(user, q.region_id) if q.region_id is not None else None,
        desk_id=q.desk_id,
        department=q.department.strip() if q.department else None,
        mine=q.mine,
    )
    page = keyset(qs, after=q.after, limit=q.limit, order=("-id",))
    return {"items": [_order(o) for o in page], "next_after": page.next_after}


# ---------------------------------------------------------------- orders: intake

class OrderIn(Schema):
    category: str = Field(..., description="The category code (Open311 service_code).")
    title: str = ""
    description: str = ""
    lat: float | None = None
    lng: float | None = None
    region_id: int | None = Field(None, description="The place (a grid), instead of a point.")
    address: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict, description="Answers to the category's attributes, by code.")
    urgent: bool = False
    source: Literal["portal", "grid", "hotline", "window"] | None = Field(
        None, description="Default: portal for residents, grid for grid workers, hotline for other staff."
    )
    resident_id: int | None = Field(None, description="Staff entering a call on a registered resident's behalf.")
    reporter_name: str = ""
    reporter_phone: str = ""


class SettleIn(Schema):
    category: str
    note: str = Field(..., description="How it was settled.")
    title: str = ""
    description: str = ""
    lat: float | None = None
    lng: float | None = None
    region_id: int | None = None
    address: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict)


def _default_source(user) -> str:
    held = roles(user)
    if not held or held == {Role.RESIDENT}:
        return Source.PORTAL
    if Role.GRID_WORKER in held:
        return Source.GRID
    return Source.HOTLINE


def _region(region_id: int | None) -> Region | None:
    return access.region_by_id(region_id) if region_id is not None else None


@router.post(
    "/orders",
    response={201: OrderOut, **errors()},
    summary="Report a work order (JSON, or a multipart form with photos)",
    openapi_extra=body(OrderIn, files=True),
    operation_id="workorders_api_create_order",
)
def create_order(request):
    user = request.auth
    payload, uploads = parse(request, OrderIn)
    resident = None
    if payload.resident_id is not None:
        from registry import access as registry_access

        resident = registry_access.resident(user, payload.resident_id)
    order = services.report(
        user,
        category=access.category_by_code(payload.category),
        source=payload.source or _default_source(user),
        title=payload.title,
        description=payload.description,
        region=_region(payload.region_id),
        lat=payload.lat,
        lng=payload.lng,
        address=payload.address,
        attributes=payload.attributes,
        urgent=payload.urgent,
        resident=resident,
        reporter_name=payload.reporter_name,
        reporter_phone=payload.reporter_phone,
        files=uploads.getlist("files"),
    )
    return Status(201, _order(order))


@router.post(
    "/orders/settle",
    response={201: OrderDetail, **errors()},
    summary="Settle a small matter on the spot (就地解决): reported and closed in one step",
    openapi_extra=body(SettleIn, files=True, after_files=True),
    operation_id="workorders_api_settle_order",
)
def settle_order(request):
    payload, uploads = parse(request, SettleIn)
    order = services.settle_on_spot(
        request.auth, category=access.category_by_code(payload.category), region=_region(payload.region_id), lat=payload.lat, lng=payload.lng,
        title=payload.title, description=payload.description, note=payload.note, address=payload.address, attributes=payload.attributes,
        files=uploads.getlist("files"), after_files=uploads.getlist("after_files"),
    )
    return Status(201, _after_step(request, order.pk, order))


# Registered after POST /orders/settle: the path patterns are tried in order.
@router.get(
    "/orders/{order_id}", response={200: OrderDetail, **errors()}, summary="One work order with its timeline and files",
    operation_id="workorders_api_get_order",
)
def get_order(request, order_id: int):
    return _detail(request, access.order(request.auth, order_id))


# ---------------------------------------------------------------- orders: the steps

class StepIn(Schema):
    version: int = Field(..., ge=1, le=2**31, description="The order's version you saw (every step needs it: a double tap or a "
                         "retry of a step already taken answers 409 instead of repeating it).")
    note: str = ""


class FileIn(StepIn):
    urgent: bool | None = None


class NoteRequiredIn(StepIn):
    note: str


class DuplicateIn(StepIn):
    of: str = Field(..., description="The original order's number (or id).")


class DispatchIn(StepIn):
    assignee_id: int | None = None
    department: str = ""


class VerifyIn(StepIn):
    passed: bool


class EscalateIn(StepIn):
    note: str
    department: str = ""


class MoreTimeIn(StepIn):
    kind: Literal["extension", "suspension"]
    reason: str
    hours: int | None = Field(None, description="Extra hours for an extension (1–720).")


class DecideIn(StepIn):
    request_id: int | None = Field(None, description="Default: the order's pending request.")
    approve: bool


class RateIn(StepIn):
    score: int
    comment: str = ""


class ReopenIn(StepIn):
    reason: str


def _step(action: str, schema: type[StepIn], summary: str, files: bool = False):
    """Register `POST /orders/{order_id}/<action>`: scope first (404), then the service, which
    compares the `version` under the order's row lock."""

    def register(run):
        def view(request, order_id: int):
            payload, uploads = parse(request, schema)
            order = access.order(request.auth, order_id)
            result = run(request.auth, order, payload, uploads.getlist("files"))
            return _after_step(request, order.pk, result if isinstance(result, WorkOrder) else None)

        view.__name__ = view.__qualname__ = f"order_{action}"
        view.__doc__ = run.__doc__
        router.post(
            f"/orders/{{order_id}}/{action}",
            response={200: OrderDetail, **errors()},
            summary=summary,
            operation_id=f"workorders_order_{action}",
            openapi_extra=body(schema, files=files),
        )(view)
        return run

    return register


@_step("take", StepIn, "Take an order waiting at a desk above on at the community of its place (社区接办)")
def _take_on(user, order, payload, files):
    return services.take(user, order, note=payload.note, version=payload.version)


@_step("file", FileIn, "File a report (立案)")
def _file(user, order, payload, files):
    return services.file(user, order, note=payload.note, urgent=payload.urgent, version=payload.version)


@_step("void", NoteRequiredIn, "Void a report that is not a case (作废)")
def _void(user, order, payload, files):
    return services.void(user, order, note=payload.note, version=payload.version)


@_step("duplicate", DuplicateIn, "Mark a report as a duplicate of another order")
def _duplicate(user, order, payload, files):
    original = access.order_by_reference(user, payload.of)
    if original is None:
        raise DomainError("duplicate_unknown", _("Give the number of the original work order."), field="of")
    return services.mark_duplicate(user, order, of=original, note=payload.note, version=payload.version)


@_step("dispatch", DispatchIn, "Dispatch to a person or a department (派遣)")
def _dispatch(user, order, payload, files):
    return services.dispatch(user, order, assignee_id=payload.assignee_id, department=payload.department, note=payload.note, version=payload.version)


@_step("start", StepIn, "Start handling (in progress)")
def _start(user, order, payload, files):
    return services.start(user, order, note=payload.note, version=payload.version)


@_step("handle", NoteRequiredIn, "Report back: handled, with after-photos (处置反馈)", files=True)
def _handle(user, order, payload, files):
    return services.handle(user, order, note=payload.note, files=files, version=payload.version)


@_step("verify", VerifyIn, "Verify on site: passed, or back for rework (核查/返工)", files=True)
def _verify(user, order, payload, files):
    return services.verify(user, order, passed=payload.passed, note=payload.note, files=files, version=payload.version)


@_step("close", StepIn, "Close (结案)")
def _close(user, order, payload, files):
    return services.close(user, order, note=payload.note, version=payload.version)


@_step("escalate", EscalateIn, "Escalate to the level above (上报)")
def _escalate(user, order, payload, files):
    return services.escalate(user, order, note=payload.note, department=payload.department, version=payload.version)


@_step("requests", MoreTimeIn, "Ask for an extension or a suspension (延期/缓办)")
def _more_time(user, order, payload, files):
    return services.request_more_time(user, order, kind=payload.kind, reason=payload.reason, hours=payload.hours, version=payload.version)


@_step("decide", DecideIn, "Decide a pending extension or suspension request")
def _decide(user, order, payload, files):
    req = access.request_of(order, payload.request_id)
    if req is None:
        raise NotFound("request_not_found", _("This work order has no such request waiting for a decision."))
    return services.decide(user, req.pk, approve=payload.approve, note=payload.note, version=payload.version)


@_step("resume", StepIn, "End a suspension (resume)")
def _resume(user, order, payload, files):
    return services.resume(user, order, note=payload.note, version=payload.version)


@_step("confirm", StepIn, "The reporter confirms the result")
def _confirm(user, order, payload, files):
    return services.confirm(user, order, note=payload.note, version=payload.version)


@_step("rate", RateIn, "The reporter rates the result (1–5)")
def _rate(user, order, payload, files):
    return services.rate(user, order, score=payload.score, comment=payload.comment, version=payload.version)


@_step("reopen", ReopenIn, "The reporter reopens it within 7 days of closing")
def _reopen(user, order, payload, files):
    return services.reopen(user, order, reason=payload.reason, version=payload.version)
