"""Every step of a work order. One `transaction.atomic` function per action: it locks the order,
checks the actor's right and the current status against the lifecycle's table
(models.TRANSITIONS: which step each status allows, to which status, and who takes it), writes
the change, a Transition row and the notifications. A refused step raises DomainError and
changes nothing.

Two people acting on one order at once: every step that changes an order takes the `version`
its caller saw; the order row is locked and the version compared, so the second gets a Conflict
("someone else has just ...") instead of overwriting the first.

`actor=None` means the system (timers, demo generator).
"""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import holders, holders_query, in_scope
from accounts.models import Role, User
from linli.db import insert_row
from linli.errors import Conflict, DomainError, Forbidden
from regions.models import Level, Region

from .. import access
from ..models import (
    ENDED_STATUSES,
    MOVE_WHO,
    MOVE_WORDS,
    ApprovalRequest,
    Attachment,
    AttachmentRole,
    Category,
    Kind,
    Move,
    Priority,
    Rating,
    RequestKind,
    RequestStatus,
    Source,
    Stage,
    Status,
    SupervisionNotice,
    Transition,
    WorkOrder,
    move,
)
from . import attributes as attribute_schema
from . import notify, routing, sla, uploads

REOPEN_DAYS = 7
# Warn the assignee this long before a stage deadline.
WARN_BEFORE = dt.timedelta(minutes=30)
MAX_FILES = 9


# ---------------------------------------------------------------- helpers


def _now():
    return timezone.now()


def _lock(order, version: int | None) -> WorkOrder:
    """The order, locked for this transaction; a stale `version` is a conflict."""
    pk = order.pk if isinstance(order, WorkOrder) else order
    try:
        locked = (
            WorkOrder.objects.select_for_update(of=("self",))
            .select_related("category", "handler_region", "region")
            .defer("region__boundary", "handler_region__boundary")
            .get(pk=pk)
        )
    except (WorkOrder.DoesNotExist, ValueError, TypeError):
        raise DomainError("not_found", _("Not found, or outside your area."), status=404)
    if version is not None and int(version) != locked.version:
        raise Conflict(
            "order_changed",
            _("Someone else has just changed this work order (now: %(state)s). Reload it and try again."),
            state=Status(locked.status).label,
        )
    return locked


def _not_closed() -> Conflict:
    return Conflict("not_closed", _("This can be done only after the work order is closed."))


def require_move(order: WorkOrder, action: str) -> Move:
    """The table's step `action` from the order's status (models.TRANSITIONS), or a refusal: the
    reporter's steps "only after it is closed", any other "a work order that is ... cannot be ..."."""
    step = move(order, action)
    if step is not None:
        return step
    if MOVE_WHO[action] == "reporter":
        raise _not_closed()
    raise Conflict(
        "transition_not_allowed",
        _("A work order that is %(state)s cannot be %(action)s."),
        state=Status(order.status).label,
        action=MOVE_WORDS[action],
    )


def _check_dispatcher(actor, order):
    if actor is not None and not access.is_dispatcher(actor, order):
        raise Forbidden("forbidden", _("Only the dispatchers of %(unit)s can do this."), unit=order.handler_region.name)


def _check_handler(actor, order):
    if actor is not None:
        access.require(access.is_handler(actor, order))


def _check_verifier(actor, order):
    if actor is None:
        return
    if access.handled_by(order) == actor.pk and not access.is_verifier(actor, order):
        raise Forbidden("verify_own_work", _("You reported the result of this order; someone else verifies it on site."))
    access.require(access.is_verifier(actor, order))


def _check_community(actor, order):
    if actor is None or access.is_community_of(actor, order):
        return
    if order.handler_region.level >= Level.COMMUNITY and access.is_dispatcher(actor, order):
        raise Conflict("already_at_desk", _("It is at your community's desk already."))
    raise Forbidden("forbidden", _("Only the community of the order's place can take it on, while it waits at a desk above."))


def _check_reporter(actor, order):
    if actor is None or not access.is_reporter(actor, order):
        raise Forbidden("forbidden", _("Only the person who reported it can do this."))


def _check_window(actor, order):
    if order.kind != Kind.SERVICE:
        raise DomainError("not_window", _("This is not a one-window application."))
    _check_dispatcher(actor, order)


# The checks the table's `who` names (actor None: the system, which only the reporter's steps refuse).
WHO_CHECKS = {
    "dispatcher": _check_dispatcher,
    "handler": _check_handler,
    "verifier": _check_verifier,
    "reporter": _check_reporter,
    "community": _check_community,
    "window": _check_window,
}


def _take(actor, order: WorkOrder, action: str) -> Move:
    """May the actor take this step (the table's `who`), and does the order's status allow it?"""
    WHO_CHECKS[MOVE_WHO[action]](actor, order)
    return require_move(order, action)


def _save(order: WorkOrder, actor, action: str, from_status: str, note: str = "", data: dict | None = None, at=None) -> Transition:
    # The row is locked for this transaction (_lock), so a plain increment is safe.
    order.version += 1
    order.save()
    return Transition.objects.create(
        order=order,
        action=action,
        from_status=from_status,
        to_status=order.status,
        actor=actor if (actor is not None and actor.pk) else None,
        at=at or _now(),
        note=(note or "").strip(),
        data=data or {},
    )


def _set_stage(order: WorkOrder, stage: str, start):
    order.stage = stage
    order.due_at = sla.stage_due(order.category, stage, order.priority == Priority.URGENT, start)
    order.overdue = False


def _attach(order: WorkOrder, actor, files, role: str, transition: Transition | None = None) -> list[Attachment]:
    files = [f for f in (files or []) if f]
    if len(files) > MAX_FILES:
        raise DomainError("too_many_files", _("Attach at most %(n)s files."), field="files", n=MAX_FILES)
    checked = [(f, uploads.check(f)) for f in files]
    rows = []
    for f, content_type in checked:
        attachment = Attachment(
            order=order,
            transition=transition,
            role=role,
            content_type=content_type,
            size=f.size,
            name=(getattr(f, "name", "") or "")[:200],
            uploaded_by=actor if actor is not None and actor.pk else None,
        )
        attachment.file.save(f.name or "upload", f, save=False)
        thumb = uploads.thumbnail(f, content_type)
        if thumb is not None:
            attachment.thumbnail.save("thumb.jpg", thumb, save=False)
        attachment.save()
        rows.append(attachment)
    return rows


def _check_files(files):
    """Refuse bad files before anything is written (the order must not exist without them)."""
    files = [f for f in (files or []) if f]
    if len(files) > MAX_FILES:
        raise DomainError("too_many_files", _("Attach at most %(n)s files."), field="files", n=MAX_FILES)
    for f in files:
        uploads.check(f)


def _users_with(roles, region_path: str, exact: bool = True, department: str = ""):
    return holders_query(roles, region_path, exact=exact, department=department)


def dispatchers_of(order: WorkOrder) -> list[User]:
    """The people at the desk that holds the order (its handler unit), kept per process
    (accounts/access.py): they are notified of every new order."""
    if order.department:
        return holders([Role.DEPARTMENT_HANDLER], order.handler_region_path, exact=False, department=order.department)
    return holders(access.DISPATCH_ROLES, order.handler_region_path)


def grid_workers_of(region_path: str) -> list[User]:
    grid_path = region_path[: Region.steplen * Level.GRID]
    return holders([Role.GRID_WORKER], grid_path)


def _handlers(order: WorkOrder):
    if order.assignee_id:
        return [order.assignee]
    return list(dispatchers_of(order))


def _notify(users, order, verb, text, params=None):
    notify.send(users, order, verb, text, params)


def _valid_category(category) -> Category:
    if isinstance(category, str):
        category = Category.objects.filter(code=category).first()
    if category is None or not category.active:
        raise DomainError("category_unknown", _("There is no such category of work."), field="category")
    if category.is_group:
        raise DomainError("category_group", _("Choose a specific category, not a group."), field="category")
    return category


def _place(actor, *, region=None, lat=None, lng=None, resident=None) -> Region:
    if lat not in (None, "") or lng not in (None, ""):
        if lat in (None, "") or lng in (None, ""):
            raise DomainError("location_invalid", _("Give both latitude and longitude."), field="lat")
        return routing.place_of_point(lat, lng)
    if region is not None:
        if region.valid_to is not None:
            raise DomainError("region_inactive", _("%(name)s has been closed; choose its successor."), name=region.name)
        return region
    if resident is not None:
        return resident.region
    raise DomainError("location_required", _("Say where it is: pick a point on the map or give the place."), field="location")


def _open(*, actor, category, source, title, description, region, lat, lng, address, attributes, urgent, resident, reporter_name, reporter_phone, client="", resident_id=None) -> WorkOrder:
    now = _now()
    handler_region, department = routing.handler_for(category, region)
    title = (title or "").strip() or category.name
    if len(title) > 200:
        raise DomainError("title_too_long", _("The title is at most 200 characters."), field="title")
    order = WorkOrder(
        category=category,
        kind=category.kind,
        status=Status.REPORTED,
        priority=Priority.URGENT if urgent else Priority.NORMAL,
        source=source,
        title=title,
        description=(description or "").strip()[:4000],
        attributes=attributes,
        lat=float(lat) if lat not in (None, "") else None,
        lng=float(lng) if lng not in (None, "") else None,
        address=(address or "").strip()[:200],
        reporter=actor if actor is not None and actor.pk else None,
        resident=resident,
        reporter_name=(reporter_name or "").strip()[:50],
        client=client[:100],
        reported_at=now,
    )
    if resident is None and resident_id is not None:
        order.resident_id = resident_id
    order.set_region(region)
    order.set_handler(handler_region, department)
    order.set_reporter_phone((reporter_phone or "").strip())
    _set_stage(order, Stage.FILE, now)
    order.deadline = sla.closing_deadline(category, Stage.FILE, urgent, now)
    return order


# ---------------------------------------------------------------- intake


@transaction.atomic
def report(
    actor,
    *,
    category,
    source: str = Source.PORTAL,
    title: str = "",
    description: str = "",
    region: Region | None = None,
    lat=None,
    lng=None,
    address: str = "",
    attributes: dict | None = None,
    urgent: bool = False,
    resident=None,
    reporter_name: str = "",
    reporter_phone: str = "",
    files=(),
    client: str = "",
    media_url: str = "",
) -> WorkOrder:
    """Take in a report from any channel. Staff report within their area; a resident anywhere
    in the city (their own report, seen in "my reports"). `media_url`: a photo the reporter
    keeps elsewhere (Open311), recorded on the report step."""
    category = _valid_category(category)
    if actor is not None and source not in (Source.PORTAL, Source.OPEN311) and not _is_staff(actor):
        raise Forbidden("forbidden", _("Only staff can enter reports through this channel."))
    if category.kind == Kind.SERVICE and source in (Source.PORTAL, Source.OPEN311):
        # A one-window item is applied for at the community's window (with its materials), not
        # reported like a problem.
        raise DomainError("service_at_window", _("%(item)s is applied for at your community's one-window desk, with its materials."),
                          field="category", item=category.name)
    own = None
    if actor is not None and resident is None and source == Source.PORTAL and getattr(actor, "resident_id", None):
        # The reporter's own registry row: only its id is kept on the order, and its place is
        # read only when the report names no place of its own.
        own = actor.resident_id
        if lat in (None, "") and lng in (None, "") and region is None:
            resident = actor.resident
    place = _place(actor, region=region, lat=lat, lng=lng, resident=resident)
    if actor is not None and source in (Source.GRID, Source.HOTLINE, Source.WINDOW) and not in_scope(actor, place.path):
        raise Forbidden("forbidden", _("That place is outside your area."))
    details = attribute_schema.validate(category, attributes)
    _check_files(files)
    order = _open(
        actor=actor,
        category=category,
        source=source,
        title=title,
        description=description,
        region=place,
        lat=lat,
        lng=lng,
        address=address,
        attributes=details,
        urgent=urgent,
        resident=resident,
        resident_id=own,
        reporter_name=reporter_name or (str(actor) if actor is not None and source == Source.PORTAL else ""),
        reporter_phone=reporter_phone,
        client=client,
    )
    insert_row(order)  # save() on the path every report takes (linli/db.py)
    reported = insert_row(Transition(
        order=order, action="report", from_status="", to_status=order.status, actor=order.reporter, at=order.reported_at,
        data={"source": source, **({"media_url": media_url} if media_url else {})},
    ))
    _attach(order, actor, files, AttachmentRole.BEFORE, reported)
    _notify(dispatchers_of(order), order, "reported", _("New work order %(number)s: %(title)s"), {"number": order.number, "title": order.title})
    if category.must_attend:
        _notify(
            grid_workers_of(order.region_path),
            order,
            "must_attend",
            _("Must attend (三必): %(title)s at %(place)s"),
            {"title": order.title, "place": order.address or order.region.name},
        )
    return order


def _is_staff(user) -> bool:
    return access.is_staff(user)


@transaction.atomic
def settle_on_spot(actor, *, category, region=None, lat=None, lng=None, title="", description="", note="", address="", attributes=None, files=(), after_files=()) -> WorkOrder:
    """就地解决: a grid worker finds a small matter and settles it at once. One step records the
    report and its settlement; the order is closed, counted as settled in the grid."""
    category = _valid_category(category)
    if not category.settle_on_spot:
        raise DomainError("settle_not_allowed", _("%(name)s cannot be settled on the spot; report it instead."), name=category.name)
    place = _place(actor, region=region, lat=lat, lng=lng)
    if actor is None or not access.has_area_role(actor, {Role.GRID_WORKER, Role.COMMUNITY_WORKER}, place.path):
        raise Forbidden("forbidden", _("Only the grid's own staff can settle a matter on the spot."))
    if not (note or "").strip():
        raise DomainError("note_required", _("Say how it was settled."), field="note")
    details = attribute_schema.validate(category, attributes)
    _check_files(list(files) + list(after_files))
    order = _open(
        actor=actor, category=category, source=Source.GRID, title=title, description=description, region=place, lat=lat, lng=lng,
        address=address, attributes=details, urgent=False, resident=None, reporter_name=str(actor), reporter_phone="",
    )
    now = order.reported_at
    order.status = Status.CLOSED
    order.assignee = actor
    order.set_handler(place if place.level == Level.GRID else order.handler_region, "")
    order.filed_at = order.dispatched_at = order.started_at = order.handled_at = order.verified_at = order.closed_at = now
    order.settled_on_spot = order.settled_in_grid = True
    order.stage = ""
    order.due_at = None
    order.save()
    reported = Transition.objects.create(order=order, action="report", from_status="", to_status=Status.REPORTED, actor=actor, at=now, data={"source": Source.GRID})
    settled = Transition.objects.create(order=order, action="settle_on_spot", from_status=Status.REPORTED, to_status=Status.CLOSED, actor=actor, at=now, note=note.strip())
    _attach(order, actor, files, AttachmentRole.BEFORE, reported)
    _attach(order, actor, after_files, AttachmentRole.AFTER, settled)
    return order


@transaction.atomic
def assign_down(actor, *, category, region: Region, title: str, description: str = "", urgent: bool = False, note: str = "") -> WorkOrder:
    """上级交办: a street, department or bureau hands a task to a unit below it. The order is
    filed at once on that unit's desk."""
    category = _valid_category(category)
    if actor is None or not (access.has_area_role(actor, access.DISPATCH_ROLES, region.path) or any(
        region.path.startswith(p) for _d, p in access.departments(actor)
    )):
        raise Forbidden("forbidden", _("You can assign work only to units in your area."))
    order = _open(
        actor=actor, category=category, source=Source.ASSIGNED, title=title, description=description, region=region, lat=None,
        lng=None, address="", attributes={}, urgent=urgent, resident=None, reporter_name=str(actor), reporter_phone="",
    )
    order.set_handler(region, "")
    order.status = Status.FILED
    order.filed_at = order.reported_at
    _set_stage(order, Stage.DISPATCH, order.reported_at)
    order.save()
    Transition.objects.create(order=order, action="assign_down", from_status="", to_status=Status.FILED, actor=actor, at=order.reported_at, note=note)
    _notify(dispatchers_of(order), order, "assigned", _("Assigned from above: %(title)s"), {"title": order.title})
    return order


# ---------------------------------------------------------------- the desk: file, void, dispatch


@transaction.atomic
def file(actor, order, *, note: str = "", urgent: bool | None = None, version=None) -> WorkOrder:
    """立案: accept the report as a case and start the dispatch clock."""
    order = _lock(order, version)
    step = _take(actor, order, "file")
    before = order.status
    if urgent is not None:
        order.priority = Priority.URGENT if urgent else Priority.NORMAL
    now = _now()
    order.status = step.to
    order.filed_at = now
    _set_stage(order, Stage.DISPATCH, now)
    _save(order, actor, "file", before, note)
    return order


@transaction.atomic
def void(actor, order, *, note: str, version=None) -> WorkOrder:
    """作废: not a case (a prank, out of remit, already gone). A reason is required."""
    order = _lock(order, version)
    step = _take(actor, order, "void")
    if not (note or "").strip():
        raise DomainError("note_required", _("Say why it is voided."), field="note")
    before = order.status
    order.status = step.to
    order.closed_at = _now()
    order.stage, order.due_at = "", None
    _save(order, actor, "void", before, note)
    _notify([order.reporter], order, "voided", _("Your report %(number)s was not taken up: %(note)s"), {"number": order.number, "note": note})
    return order


@transaction.atomic
def mark_duplicate(actor, order, *, of, note: str = "", version=None) -> WorkOrder:
    order = _lock(order, version)
    step = _take(actor, order, "duplicate")
    original = of if isinstance(of, WorkOrder) else WorkOrder.objects.filter(pk=of).first()
    if original is None or original.pk == order.pk or (actor is not None and not access.can_see(actor, original)):
        raise DomainError("duplicate_unknown", _("Give the number of the original work order."), field="of")
    if original.duplicate_of_id:
        original = original.duplicate_of
    before = order.status
    order.status = step.to
    order.duplicate_of = original
    order.closed_at = _now()
    order.stage, order.due_at = "", None
    _save(order, actor, "duplicate", before, note, {"of": original.pk, "of_number": original.number})
    _notify([order.reporter], order, "duplicate", _("Your report %(number)s is already being handled as %(of)s."), {"number": order.number, "of": original.number})
    return order


def _assignee_by_id(order, assignee_id) -> User:
    """The active person a client names by id, who must work where the order is: one answer for
    "no such person" and "a person elsewhere" (an id outside the area says nothing of them)."""
    path = getattr(order, "region_path", None)
    if path is None:
        path = WorkOrder.objects.filter(pk=order).values_list("region_path", flat=True).first()
    assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
    if assignee is None or path is None or not access.may_take(assignee, path):
        raise DomainError("handler_out_of_scope", _("Choose a handler whose area holds this work order."), field="assignee_id")
    return assignee


@transaction.atomic
def dispatch(
    actor, order, *, assignee: User | None = None, assignee_id: int | None = None, department: str = "", note: str = "", version=None,
) -> WorkOrder:
    """派遣: give the order to a person (grid worker, community worker...) or a department.
    `assignee_id` names the person by id (an API client's input) instead of `assignee`."""
    if assignee_id is not None:
        assignee = _assignee_by_id(order, assignee_id)
    order = _lock(order, version)
    step = _take(actor, order, "dispatch")
    department = (department or "").strip()
    if assignee is None and not department:
        raise DomainError("handler_required", _("Choose who handles it: a person or a department."), field="assignee")
    if assignee is not None and not access.may_take(assignee, order.region_path):
        raise DomainError(
            "handler_out_of_scope",
            _("%(name)s does not work in %(place)s; choose a handler whose area holds it."),
            field="assignee",
            name=str(assignee),
            place=order.region.name,
        )
    if department and assignee is None and not _users_with([Role.DEPARTMENT_HANDLER], order.region_path, exact=False, department=department).exists():
        raise DomainError("department_unknown", _("No handler of %(department)s works in this area."), field="department", department=department)
    before = order.status
    now = _now()
    order.assignee = assignee
    if department:
        order.department = department
    order.status = step.to
    order.dispatched_at = now
    _set_stage(order, Stage.HANDLE, now)
    _save(order, actor, "dispatch", before, note, {"assignee": assignee.pk if assignee else None, "department": department})
    _notify(_handlers(order), order, "dispatched", _("Work order %(number)s is yours: %(title)s"), {"number": order.number, "title": order.title})
    return order


# ---------------------------------------------------------------- handling


@transaction.atomic
def start(actor, order, *, note: str = "", version=None) -> WorkOrder:
    order = _lock(order, version)
    step = _take(actor, order, "start")
    before = order.status
    order.status = step.to
    order.started_at = _now()
    if order.assignee_id is None and actor is not None and not order.department:
        order.assignee = actor
    _save(order, actor, "start", before, note)
    return order


@transaction.atomic
def handle(actor, order, *, note: str, files=(), version=None) -> WorkOrder:
    """Report back (处置反馈): what was done, with after-photos."""
    order = _lock(order, version)
    step = _take(actor, order, "handle")
    if not (note or "").strip():
        raise DomainError("note_required", _("Say what was done."), field="note")
    _check_files(files)
    before = order.status
    now = _now()
    order.status = step.to
    order.handled_at = now
    if order.started_at is None:
        order.started_at = now
    _set_stage(order, Stage.VERIFY, now)
    recorded = _save(order, actor, "handle", before, note)
    _attach(order, actor, files, AttachmentRole.AFTER, recorded)
    verifiers = list(grid_workers_of(order.region_path)) + list(dispatchers_of(order))
    _notify(verifiers, order, "handled", _("Work order %(number)s is handled; please verify it on site."), {"number": order.number})
    return order


@transaction.atomic
def verify(actor, order, *, passed: bool, note: str = "", files=(), version=None) -> WorkOrder:
    """核查: on site, the work is confirmed (→ verified) or sent back (返工 → in progress)."""
    order = _lock(order, version)
    step = _take(actor, order, "verify" if passed else "rework")
    if not passed and not (note or "").strip():
        raise DomainError("note_required", _("Say what is still wrong, for the rework."), field="note")
    _check_files(files)
    before = order.status
    now = _now()
    order.status = step.to
    if passed:
        order.verified_at = now
        order.stage, order.due_at, order.overdue = "", None, False
        recorded = _save(order, actor, "verify", before, note)
        _notify(dispatchers_of(order), order, "verified", _("Work order %(number)s passed verification; it can be closed."), {"number": order.number})
    else:
        order.rework_count += 1
        _set_stage(order, Stage.HANDLE, now)
        recorded = _save(order, actor, "rework", before, note)
        _notify(_handlers(order), order, "rework", _("Work order %(number)s failed verification and goes back for rework: %(note)s"), {"number": order.number, "note": note})
    _attach(order, actor, files, AttachmentRole.AFTER, recorded)
    return order


@transaction.atomic
def close(actor, order, *, note: str = "", version=None) -> WorkOrder:
    """结案. Incidents and demands close after verification; one-window applications and
    mediation cases close straight from handled (there is nothing to verify on site)."""
    order = _lock(order, version)
    step = _take(actor, order, "close")
    before = order.status
    now = _now()
    order.status = step.to
    order.closed_at = now
    order.stage, order.due_at, order.overdue = "", None, False
    order.settled_in_grid = order.handler_region.level == Level.GRID and not order.department
    _save(order, actor, "close", before, note)
    SupervisionNotice.objects.filter(order=order, resolved_at__isnull=True).update(resolved_at=now)
    _notify([order.reporter], order, "closed", _("Your report %(number)s is closed. Please confirm or rate it within 7 days."), {"number": order.number})
    return order


# ---------------------------------------------------------------- more time, a pause, escalation


@transaction.atomic
def request_more_time(actor, order, *, kind: str, reason: str, hours: int | None = None, version=None) -> ApprovalRequest:
    """延期 (extra hours) or 缓办 (a pause): asked by the handler, decided by the dispatcher."""
    order = _lock(order, version)
    _take(actor, order, "request_more_time")  # the status stays
    if kind not in RequestKind.values:
        raise DomainError("request_kind", _("Ask for an extension or a suspension."), field="kind")
    if not (reason or "").strip():
        raise DomainError("reason_required", _("Give a reason."), field="reason")
    if kind == RequestKind.EXTENSION:
        try:
            hours = int(hours)
        except (TypeError, ValueError):
            raise DomainError("hours_invalid", _("Say how many hours more (1 to 720)."), field="hours")
        if not 1 <= hours <= 720:
            raise DomainError("hours_invalid", _("Say how many hours more (1 to 720)."), field="hours")
    if order.requests.filter(status=RequestStatus.PENDING).exists():
        raise Conflict("request_pending", _("A request for this order is already waiting for a decision."))
    req = ApprovalRequest.objects.create(
        order=order, kind=kind, reason=reason.strip(), hours=hours if kind == RequestKind.EXTENSION else None,
        requested_by=actor, requested_at=_now(),
    )
    _save(order, actor, f"request_{kind}", order.status, reason, {"request": req.pk, "hours": req.hours})
    _notify(dispatchers_of(order), order, "request", _("%(kind)s requested for %(number)s: %(reason)s"), {"kind": req.get_kind_display(), "number": order.number, "reason": reason})
    return req


@transaction.atomic
def decide(actor, request_id, *, approve: bool, note: str = "", version=None) -> ApprovalRequest:
    """The dispatcher grants or refuses a request for more time. A granted suspension pauses the
    order (the table's "suspend"); a granted extension moves its deadlines; neither changes
    anything else of the order's status."""
    req = ApprovalRequest.objects.select_for_update().filter(pk=getattr(request_id, "pk", request_id)).first()
    if req is None:
        raise DomainError("not_found", _("Not found, or outside your area."), status=404)
    order = _lock(req.order_id, version)
    _check_dispatcher(actor, order)
    if req.status != RequestStatus.PENDING:
        raise Conflict("request_decided", _("This request has already been decided."))
    now = _now()
    req.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    req.decided_by = actor
    req.decided_at = now
    req.decision_note = (note or "").strip()
    req.save()
    before = order.status
    if approve and req.kind == RequestKind.EXTENSION:
        extra = dt.timedelta(hours=req.hours)
        order.due_at = (order.due_at or now) + extra
        order.deadline = (order.deadline or now) + extra
        order.overdue = order.due_at < now
        order.extension_count += 1
    elif approve and req.kind == RequestKind.SUSPENSION:
        step = require_move(order, "suspend")
        order.suspended_status = order.status
        order.suspended_remaining = max(0, int(((order.due_at or now) - now).total_seconds()))
        order.status = step.to
        order.was_suspended = True
        order.due_at = None
    action = ("approve_" if approve else "refuse_") + req.kind
    _save(order, actor, action, before, note, {"request": req.pk, "at": now.isoformat()})
    _notify([req.requested_by], order, "decision", _("Your request for %(number)s was %(decision)s."), {"number": order.number, "decision": req.get_status_display()})
    return req


@transaction.atomic
def resume(actor, order, *, note: str = "", version=None) -> WorkOrder:
    """End a suspension: the stage clock goes on with the time that was left, and the closing
    deadline moves by the length of the pause."""
    order = _lock(order, version)
    step = _take(actor, order, "resume")
    now = _now()
    paused_at = order.transitions.filter(action="approve_suspension").order_by("-at").values_list("at", flat=True).first() or now
    before = order.status
    order.status = step.status_after(order)  # the status it was suspended in
    order.due_at = now + dt.timedelta(seconds=order.suspended_remaining or 0)
    if order.deadline:
        order.deadline += now - paused_at
    order.suspended_status, order.suspended_remaining = "", None
    _save(order, actor, "resume", before, note)
    _notify(_handlers(order), order, "resumed", _("Work order %(number)s is active again."), {"number": order.number})
    return order


@transaction.atomic
def escalate(actor, order, *, note: str, department: str = "", version=None) -> WorkOrder:
    """上报: the unit holding the order cannot settle it; it goes to the next level up (grid →
    community → street), and from a street to a department."""
    order = _lock(order, version)
    level = order.handler_region.level
    step = _take(actor, order, "escalate_to_department" if level <= Level.STREET else "escalate")
    if not (note or "").strip():
        raise DomainError("note_required", _("Say why it cannot be settled at this level."), field="note")
    before = order.status
    now = _now()
    department = (department or "").strip()
    if order.department:
        raise DomainError("escalate_department", _("A department's order goes back to its dispatcher, not further up."))
    if level <= Level.STREET:
        if not department:
            department = routing.handler_for(order.category, order.region)[1]
        if not department:
            raise DomainError("department_required", _("Name the department that should take it."), field="department")
        target = order.handler_region if level < Level.STREET else routing.parent_unit(order.handler_region)
        if not _users_with([Role.DEPARTMENT_HANDLER], order.region_path, exact=False, department=department).exists():
            raise DomainError("department_unknown", _("No handler of %(department)s works in this area."), field="department", department=department)
        order.set_handler(target, department)
        order.status = step.to
        order.dispatched_at = now
        _set_stage(order, Stage.HANDLE, now)
    else:
        target = routing.parent_unit(order.handler_region)
        order.set_handler(target, "")
        order.status = step.to
        _set_stage(order, Stage.DISPATCH, now)
    order.assignee = None
    order.escalation_count += 1
    _save(order, actor, "escalate", before, note, {"to": target.pk, "to_name": target.name, "department": department})
    _notify(dispatchers_of(order), order, "escalated", _("Escalated to you: %(number)s %(title)s"), {"number": order.number, "title": order.title})
    return order


@transaction.atomic
def take(actor, order, *, note: str = "", version=None) -> WorkOrder:
    """社区接办: the community whose area holds an order sent to a desk above (a resident's report
    routed to the street) takes it on before that desk dispatches it: small matters stay in the
    grid, big ones in the community. The order moves to the community's desk, status unchanged."""
    order = _lock(order, version)
    step = _take(actor, order, "take")
    before = order.status
    former = order.handler_region
    community = routing.unit_at_level(order.region, Level.COMMUNITY)
    former_desk = dispatchers_of(order)
    order.set_handler(community, "")
    order.status = step.status_after(order)
    _save(order, actor, "take", before, note, {"from": former.pk, "from_name": former.name})
    _notify(former_desk, order, "taken", _("%(community)s took on %(number)s; it leaves your desk."),
            {"community": community.name, "number": order.number})
    return order


# ---------------------------------------------------------------- the reporter's word


def _reporter_step(actor, order, action: str) -> Move:
    """The reporter's word, within REOPEN_DAYS of closing."""
    step = _take(actor, order, action)
    if order.closed_at is None:
        raise _not_closed()
    if _now() - order.closed_at > dt.timedelta(days=REOPEN_DAYS):
        raise Conflict("window_passed", _("More than %(days)s days have passed since it was closed."), days=REOPEN_DAYS)
    return step


@transaction.atomic
def confirm(actor, order, *, note: str = "", version=None) -> WorkOrder:
    order = _lock(order, version)
    _reporter_step(actor, order, "confirm")
    if order.transitions.filter(action="confirm").exists():
        raise Conflict("already_confirmed", _("You have already confirmed this."))
    _save(order, actor, "confirm", order.status, note)
    return order


@transaction.atomic
def rate(actor, order, *, score, comment: str = "", version=None) -> Rating:
    order = _lock(order, version)
    _reporter_step(actor, order, "rate")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise DomainError("score_invalid", _("Give 1 to 5 stars."), field="score")
    if Rating.objects.filter(order=order).exists():
        raise Conflict("already_rated", _("You have already rated this work order."))
    rating = Rating.objects.create(order=order, score=score, comment=(comment or "").strip()[:1000], by=actor, at=_now())
    _save(order, actor, "rate", order.status, comment, {"score": score})
    return rating


@transaction.atomic
def reopen(actor, order, *, reason: str, version=None) -> WorkOrder:
    """The reporter is not satisfied: within 7 days of closing the order goes back to the desk."""
    order = _lock(order, version)
    step = _reporter_step(actor, order, "reopen")
    if not (reason or "").strip():
        raise DomainError("reason_required", _("Say what is still wrong."), field="reason")
    before = order.status
    now = _now()
    order.status = step.to
    order.closed_at = None
    order.verified_at = None
    order.rework_count += 1
    order.settled_in_grid = False
    _set_stage(order, Stage.DISPATCH, now)
    Rating.objects.filter(order=order).delete()
    _save(order, actor, "reopen", before, reason)
    _notify(dispatchers_of(order), order, "reopened", _("The reporter reopened %(number)s: %(reason)s"), {"number": order.number, "reason": reason})
    return order


# ---------------------------------------------------------------- deadlines


def check_deadlines(now=None) -> dict:
    """The SLA timer. Warns the handlers of stages due within WARN_BEFORE, and for each missed
    deadline marks the order overdue and raises one supervision notice (督办) to the level above
    its handler. Idempotent: `warned_for` / `supervised_for` remember which deadline was done,
    and a notice is unique per (order, stage, deadline)."""
    now = now or _now()
    warned = supervised = 0
    soon = WorkOrder.objects.filter(status__in=[s for s in Status.values if s not in ENDED_STATUSES and s != Status.SUSPENDED])
    for pk in soon.filter(due_at__gt=now, due_at__lte=now + WARN_BEFORE).exclude(warned_for=F("due_at")).values_list("pk", flat=True)[:5000]:
        warned += _warn(pk, now)
    for pk in soon.filter(due_at__lte=now).exclude(supervised_for=F("due_at")).values_list("pk", flat=True)[:5000]:
        supervised += _supervise(pk, now)
    return {"warned": warned, "supervised": supervised}


@transaction.atomic
def _warn(pk, now) -> int:
    order = _lock(pk, None)
    if order.due_at is None or order.warned_for == order.due_at or order.due_at <= now:
        return 0
    order.warned_for = order.due_at
    WorkOrder.objects.filter(pk=pk).update(warned_for=order.due_at)
    minutes = int((order.due_at - now).total_seconds() // 60)
    _notify(_handlers(order), order, "due_soon", _("Work order %(number)s is due in %(minutes)s minutes."), {"number": order.number, "minutes": minutes})
    return 1


@transaction.atomic
def _supervise(pk, now) -> int:
    order = _lock(pk, None)
    if order.due_at is None or order.supervised_for == order.due_at or order.due_at > now:
        return 0
    above = routing.parent_unit(order.handler_region) or order.handler_region
    notice, created = SupervisionNotice.objects.get_or_create(
        order=order,
        stage=order.stage or Stage.HANDLE,
        due_at=order.due_at,
        defaults={"region": above, "region_path": above.path, "created_at": now},
    )
    WorkOrder.objects.filter(pk=pk).update(
        overdue=True, supervised_for=order.due_at, supervision_count=F("supervision_count") + (1 if created else 0)
    )
    if created:
        Transition.objects.create(
            order=order, action="supervise", from_status=order.status, to_status=order.status, actor=None, at=now,
            data={"notice": notice.pk, "stage": notice.stage, "due_at": order.due_at.isoformat(), "to": above.name},
        )
        recipients = list(_users_with(access.DISPATCH_ROLES, above.path)) + _handlers(order)
        _notify(recipients, order, "supervise", _("Overdue (督办): %(number)s %(title)s, %(stage)s was due %(due)s"), {
            "number": order.number, "title": order.title, "stage": order.get_stage_display() or "", "due": timezone.localtime(order.due_at).strftime("%m-%d %H:%M"),
        })
    return 1 if created else 0
