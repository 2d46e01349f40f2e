"""The work-order engine (工单): one lifecycle for incidents, resident demands, one-window
applications, mediation and supervision findings. What differs between them is data on the
category: its SLA limits, its routing and its attribute schema.

Glossary: *file* 立案, *void* 作废, *dispatch* 派遣, *handle* 处置, *verify* 核查, *close* 结案,
*rework* 返工, *extension* 延期, *suspension* 缓办, *escalate* 上报, *supervision notice* 督办,
*settled on the spot* 就地解决, *one-window* 一窗受理, *missing-materials notice* 一次性告知.
"""

import datetime as dt
import uuid
from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli import pii


class Kind(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    DEMAND = "demand", _("Resident demand")
    SERVICE = "service", _("One-window service")
    MEDIATION = "mediation", _("Mediation")
    SUPERVISION = "supervision", _("Supervision finding")


class Stage(models.TextChoices):
    FILE = "file", _("Filing")
    DISPATCH = "dispatch", _("Dispatch")
    HANDLE = "handle", _("Handling")
    VERIFY = "verify", _("Verification")


class HandlerLevel(models.IntegerChoices):
    GRID = 5, _("Grid")
    COMMUNITY = 4, _("Community")
    STREET = 3, _("Street")
    DISTRICT = 2, _("District")
    CITY = 1, _("City")


class Category(models.Model):
    """A kind of work: a node of the category tree. `code` is the Open311 service_code."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    # Only leaves take orders; a group node only organises the tree.
    is_group = models.BooleanField(_("group only"), default=False)
    active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveIntegerField(default=0)
    # May a grid worker settle it on the spot (就地解决) in one step?
    settle_on_spot = models.BooleanField(_("can be settled on the spot"), default=True)
    # Must a grid worker attend it at once (三必: emergencies and disputes)?
    must_attend = models.BooleanField(_("must be attended"), default=False)
    # Deadlines count working hours only (the calendar's working days and hours).
    working_hours = models.BooleanField(_("count working hours only"), default=False)
    # One-window items (kind=service): what the applicant brings, how long it takes, who handles it.
    materials = models.JSONField(_("required materials"), default=list, blank=True)
    time_limit_days = models.PositiveSmallIntegerField(_("time limit (working days)"), null=True, blank=True)
    handling_unit = models.CharField(_("handling unit"), max_length=100, blank=True)
    channel = models.CharField(
        _("channel"),
        max_length=10,
        blank=True,
        choices=[("online", _("Online")), ("window", _("At the window")), ("both", _("Online or at the window"))],
    )
    service_type = models.CharField(
        _("service type"),
        max_length=10,
        blank=True,
        choices=[("public", _("Public service")), ("social", _("Social service")), ("market", _("Market service"))],
    )

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name


class Datatype(models.TextChoices):
    """Open311 GeoReport v2 attribute datatypes."""

    STRING = "string", _("Short text")
    NUMBER = "number", _("Number")
    DATETIME = "datetime", _("Date and time")
    TEXT = "text", _("Long text")
    SINGLEVALUELIST = "singlevaluelist", _("One choice")
    MULTIVALUELIST = "multivaluelist", _("Several choices")


class CategoryAttribute(models.Model):
    """One field a reporter fills in for this category (Open311 service definition attribute)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="attributes")
    code = models.CharField(_("code"), max_length=40)
    datatype = models.CharField(_("type"), max_length=20, choices=Datatype.choices, default=Datatype.STRING)
    description = models.CharField(_("question"), max_length=200)
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    # For list types: [{"key": "...", "name": "..."}].
    values = models.JSONField(_("choices"), default=list, blank=True)
    # Open311's `variable`: false for an informational line the client shows but does not ask.
    variable = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="category_attribute_unique")]

    def __str__(self):
        return f"{self.category.code}.{self.code}"


class SlaRule(models.Model):
    """How long a stage may take for a category (minutes; an urgent variant), from a date.

    The rule in force for an order is the newest one whose valid_from is on or before the day
    the stage starts; a category without its own rule takes its parent's."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="sla_rules")
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    minutes = models.PositiveIntegerField(_("limit (minutes)"))
    urgent_minutes = models.PositiveIntegerField(_("urgent limit (minutes)"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), default=dt.date(2000, 1, 1))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["category_id", "stage", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["category", "stage", "valid_from"], name="sla_rule_unique")]

    def __str__(self):
        return f"{self.category.code} {self.stage} {self.minutes}min"


class RoutingRule(models.Model):
    """Who handles a category in a place: the rule of the deepest matching region wins; a rule
    without a region applies everywhere. `level` is the tree level whose unit dispatches and
    handles it; `department` names a department when it is theirs."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="routing_rules")
    region = models.ForeignKey("regions.Region", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    region_path = models.CharField(max_length=255, blank=True)
    level = models.PositiveSmallIntegerField(_("handling level"), choices=HandlerLevel.choices, default=HandlerLevel.COMMUNITY)
    department = models.CharField(_("department"), max_length=100, blank=True)

    class Meta:
        ordering = ["category_id", "-region_path"]

    def __str__(self):
        return f"{self.category.code} → {self.get_level_display()} {self.department}".strip()


class Holiday(models.Model):
    """A calendar exception: a public holiday (working=False) or a swapped working weekend day
    (调休, working=True). Other days: Monday–Friday work, weekends rest."""

    date = models.DateField(unique=True)
    working = models.BooleanField(default=False)
    name = models.CharField(max_length=50, blank=True)

    def __str__(self):
        return f"{self.date} {'班' if self.working else '休'} {self.name}"


class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")
    FILED = "filed", _("Filed")
    DISPATCHED = "dispatched", _("Dispatched")
    IN_PROGRESS = "in_progress", _("In progress")
    HANDLED = "handled", _("Handled")
    VERIFIED = "verified", _("Verified")
    CLOSED = "closed", pgettext_lazy("work order", "Closed")
    SUSPENDED = "suspended", _("Suspended")
    VOIDED = "voided", _("Voided")
    DUPLICATE = "duplicate", _("Duplicate")


OPEN_STATUSES = (
    Status.REPORTED,
    Status.FILED,
    Status.DISPATCHED,
    Status.IN_PROGRESS,
    Status.HANDLED,
    Status.VERIFIED,
    Status.SUSPENDED,
)
ENDED_STATUSES = (Status.CLOSED, Status.VOIDED, Status.DUPLICATE)


# ---------------------------------------------------------------- the lifecycle, declared once

# The status an order resumes to: the one it was suspended in.
BACK = "back"
# The one-window desk's notice of missing materials: the action of its Transition row.
ACTION_MISSING = "materials_missing"


class Move(NamedTuple):
    """A step from one status: the status after it, who may take it and, for some, a condition
    on the order. `who` names the services' check of the actor: "dispatcher" (the desk holding
    the order), "handler" (its assignee, department or grid, or a dispatcher), "verifier" (the
    grid worker of its place, or a dispatcher), "reporter" (the person who reported it) and
    "window" (a one-window application, at its desk)."""

    to: str
    who: str
    when: str = ""

    def status_after(self, order) -> str:
        if self.to == BACK:
            return order.suspended_status or Status.IN_PROGRESS
        return self.to


def nothing_to_verify(order) -> bool:
    """One-window applications and mediation cases close straight from handled: there is
    nothing to verify on site."""
    return order.kind in (Kind.SERVICE, Kind.MEDIATION)


CONDITIONS = {"nothing_to_verify": nothing_to_verify}

# (status, action) → the step. A pair that is not here is refused (services: require_move).
# Steps that open an order (report, settle on the spot, assign down) and deciding a request for
# more time other than a suspension (approving an extension, refusing either) move no status
# and are not here; the SLA timer's supervision notice neither.
TRANSITIONS: dict[tuple[str, str], Move] = {
    # the desk: take a report up, or not
    (Status.REPORTED, "file"): Move(Status.FILED, "dispatcher"),
    (Status.REPORTED, "void"): Move(Status.VOIDED, "dispatcher"),
    (Status.REPORTED, "duplicate"): Move(Status.DUPLICATE, "dispatcher"),
    # 小事不出网格，大事不出社区: the community of the order's place takes on an order sent to a desk
    # above it, before that desk has dispatched it
    (Status.REPORTED, "take"): Move(Status.REPORTED, "community"),
    (Status.FILED, "take"): Move(Status.FILED, "community"),
    # dispatch, and dispatch again to someone else
    (Status.FILED, "dispatch"): Move(Status.DISPATCHED, "dispatcher"),
    (Status.DISPATCHED, "dispatch"): Move(Status.DISPATCHED, "dispatcher"),
    (Status.IN_PROGRESS, "dispatch"): Move(Status.DISPATCHED, "dispatcher"),
    # handling
    (Status.DISPATCHED, "start"): Move(Status.IN_PROGRESS, "handler"),
    (Status.DISPATCHED, "handle"): Move(Status.HANDLED, "handler"),
    (Status.IN_PROGRESS, "handle"): Move(Status.HANDLED, "handler"),
    # verification on site: passed, or back for rework
    (Status.HANDLED, "verify"): Move(Status.VERIFIED, "verifier"),
    (Status.HANDLED, "rework"): Move(Status.IN_PROGRESS, "verifier"),
    # closing
    (Status.VERIFIED, "close"): Move(Status.CLOSED, "dispatcher"),
    (Status.HANDLED, "close"): Move(Status.CLOSED, "dispatcher", "nothing_to_verify"),
    # more time (the status stays), a suspension granted, and its end
    (Status.DISPATCHED, "request_more_time"): Move(Status.DISPATCHED, "handler"),
    (Status.IN_PROGRESS, "request_more_time"): Move(Status.IN_PROGRESS, "handler"),
    (Status.DISPATCHED, "suspend"): Move(Status.SUSPENDED, "dispatcher"),
    (Status.IN_PROGRESS, "suspend"): Move(Status.SUSPENDED, "dispatcher"),
    (Status.SUSPENDED, "resume"): Move(BACK, "dispatcher"),
    # escalation: to the desk of the unit above (filed there), or from a street to a department
    (Status.REPORTED, "escalate"): Move(Status.FILED, "handler"),
    (Status.FILED, "escalate"): Move(Status.FILED, "handler"),
    (Status.DISPATCHED, "escalate"): Move(Status.FILED, "handler"),
    (Status.IN_PROGRESS, "escalate"): Move(Status.FILED, "handler"),
    (Status.REPORTED, "escalate_to_department"): Move(Status.DISPATCHED, "handler"),
    (Status.FILED, "escalate_to_department"): Move(Status.DISPATCHED, "handler"),
    (Status.DISPATCHED, "escalate_to_department"): Move(Status.DISPATCHED, "handler"),
    (Status.IN_PROGRESS, "escalate_to_department"): Move(Status.DISPATCHED, "handler"),
    # the reporter's word after closing (within REOPEN_DAYS)
    (Status.CLOSED, "confirm"): Move(Status.CLOSED, "reporter"),
    (Status.CLOSED, "rate"): Move(Status.CLOSED, "reporter"),
    (Status.CLOSED, "reopen"): Move(Status.FILED, "reporter"),
    # the one-window desk: a notice of missing materials, acceptance, in hand (given to a
    # colleague; the worker who keeps it then starts it), finished (handled and closed)
    (Status.REPORTED, ACTION_MISSING): Move(Status.REPORTED, "window"),
    (Status.REPORTED, "accept"): Move(Status.FILED, "window"),
    (Status.FILED, "process"): Move(Status.DISPATCHED, "window"),
    (Status.FILED, "finish"): Move(Status.CLOSED, "window"),
    (Status.DISPATCHED, "finish"): Move(Status.CLOSED, "window"),
    (Status.IN_PROGRESS, "finish"): Move(Status.CLOSED, "window"),
    (Status.HANDLED, "finish"): Move(Status.CLOSED, "window"),
}

# Every action of the table and who may take it (the same whatever the status).
MOVE_WHO: dict[str, str] = {action: step.who for (_status, action), step in TRANSITIONS.items()}

# How a refusal names the step: "A work order that is Reported cannot be filed." The reporter's
# steps are refused as "only after it is closed" instead.
MOVE_WORDS = {
    "take": _("taken on by the community"),
    "file": _("filed"),
    "void": _("voided"),
    "duplicate": _("marked as a duplicate"),
    "dispatch": _("dispatched"),
    "start": _("started"),
    "handle": _("reported as handled"),
    "verify": _("verified"),
    "rework": _("verified"),  # the status is checked before the verifier's verdict is read
    "close": _("closed"),
    "request_more_time": _("given more time"),
    "suspend": _("suspended"),
    "resume": _("resumed"),
    "escalate": _("escalated"),
    "escalate_to_department": _("escalated"),
    ACTION_MISSING: _("told what is missing"),
    "accept": _("accepted"),
    "process": _("processed"),
    "finish": _("finished"),
}


def move(order, action: str) -> Move | None:
    """The step `action` from the order's status, or None where the table does not allow it."""
    step = TRANSITIONS.get((order.status, action))
    if step is None or (step.when and not CONDITIONS[step.when](order)):
        return None
    return step


class Source(models.TextChoices):
    PORTAL = "portal", _("Resident portal")
    GRID = "grid", _("Grid worker")
    HOTLINE = "hotline", _("Hotline")
    ASSIGNED = "assigned", _("Assigned from above")
    OPEN311 = "open311", _("Open311 API")
    WINDOW = "window", _("One-window desk")
    SUPERVISION = "supervision", _("Supervision")


class Priority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class WorkOrder(models.Model):
    """One piece of work. `region` is the smallest place it belongs to (usually a grid);
    `handler_region` is the unit whose desk holds it now (escalation moves it up the tree)."""

    AAD_PHONE = b"workorder.reporter_phone"
    ENCRYPTED_FIELDS = {"reporter_phone_enc": AAD_PHONE}

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The single-column indexes of category, reporter and assignee would repeat the first column
    # of wo_category_time_idx, wo_reporter_idx and wo_assignee_idx (one more index per insert).
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="orders", db_index=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REPORTED)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    attributes = models.JSONField(_("details"), default=dict, blank=True)

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=255)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reported_orders", db_index=False)
    resident = models.ForeignKey("registry.Resident", null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    reporter_name = models.CharField(_("reporter's name"), max_length=50, blank=True)
    reporter_phone_enc = models.TextField(blank=True)
    reporter_phone_masked = models.CharField(_("reporter's phone"), max_length=20, blank=True)
    # The Open311 client (api key holder) that submitted it.
    client = models.CharField(max_length=100, blank=True)

    handler_region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    handler_region_path = models.CharField(max_length=255)
    department = models.CharField(_("department"), max_length=100, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_orders", db_index=False)

    reported_at = models.DateTimeField(_("reported at"))
    filed_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The deadline of the current stage, and the deadline of the whole order (closing).
    stage = models.CharField(max_length=10, choices=Stage.choices, blank=True)
    due_at = models.DateTimeField(_("stage due"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    overdue = models.BooleanField(default=False)
    # Counters and flags the KPIs read.
    rework_count = models.PositiveSmallIntegerField(default=0)
    extension_count = models.PositiveSmallIntegerField(default=0)
    escalation_count = models.PositiveSmallIntegerField(default=0)
    supervision_count = models.PositiveSmallIntegerField(default=0)
    was_suspended = models.BooleanField(default=False)
    settled_on_spot = models.BooleanField(_("settled on the spot"), default=False)
    settled_in_grid = models.BooleanField(default=False)
    suspended_status = models.CharField(max_length=20, blank=True)  # the status to resume to
    suspended_remaining = models.PositiveIntegerField(null=True, blank=True)  # stage seconds left
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates")
    # The notice-sent marks of the SLA timer (so running it twice notifies once).
    warned_for = models.DateTimeField(null=True, blank=True)
    supervised_for = models.DateTimeField(null=True, blank=True)

    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["region_path", "id"], name="wo_scope_idx", opclasses=["varchar_pattern_ops", ""]),
            models.Index(fields=["handler_region_path", "status", "id"], name="wo_desk_idx", opclasses=["varchar_pattern_ops", "", ""]),
            # The open orders of a desk in id order: a board page reads its rows from here
            # without sorting, however many closed orders the area has.
            models.Index(
                fields=["handler_region_path", "id"],
                name="wo_open_desk_idx",
                opclasses=["varchar_pattern_ops", ""],
                condition=models.Q(status__in=["reported", "filed", "dispatched", "in_progress", "handled", "verified", "suspended"]),
            ),
            models.Index(fields=["assignee", "status", "id"], name="wo_assignee_idx"),
            models.Index(fields=["status", "due_at"], name="wo_due_idx"),
            models.Index(fields=["category", "reported_at"], name="wo_category_time_idx"),
            models.Index(fields=["reporter", "id"], name="wo_reporter_idx"),
            models.Index(fields=["department", "status", "id"], name="wo_department_idx"),
        ]
        verbose_name = _("work order")

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        """The number people read out on the phone: the day it was reported and the row id
        (no counter to contend for under load)."""
        return self.format_number(self.pk or 0, self.reported_at)

    @staticmethod
    def format_number(pk: int, reported_at) -> str:
        """The number of the order with this id and report time (for rows read as values)."""
        from django.utils import timezone

        day = timezone.localtime(reported_at).strftime("%Y%m%d") if reported_at else "00000000"
        return f"{day}{pk:07d}"

    @staticmethod
    def pk_from_number(number: str) -> int | None:
        number = (number or "").strip()
        if len(number) < 9 or not number.isdigit():
            return None
        return int(number[8:])

    def set_region(self, region):
        self.region = region
        self.region_path = region.path

    def set_handler(self, region, department: str = ""):
        self.handler_region = region
        self.handler_region_path = region.path
        self.department = department

    def set_reporter_phone(self, phone: str):
        self.reporter_phone_enc = pii.encrypt(phone, self.AAD_PHONE) if phone else ""
        self.reporter_phone_masked = pii.mask_phone(phone) if phone else ""

    def reporter_phone(self) -> str:
        return pii.decrypt(self.reporter_phone_enc, self.AAD_PHONE) if self.reporter_phone_enc else ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Transition(models.Model):
    """One step of an order: who, when, from which status to which, with a note and data."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="transitions", db_index=False)  # transition_order_idx leads with it
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"], name="transition_order_idx")]

    def __str__(self):
        return f"{self.order_id} {self.action} {self.from_status}→{self.to_status}"


class AttachmentRole(models.TextChoices):
    BEFORE = "before", _("Before")
    AFTER = "after", _("After")
    MATERIAL = "material", _("Material")
    OTHER = "other", _("Other")


def attachment_path(instance, filename):
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    today = dt.date.today()
    return f"workorders/{today:%Y/%m}/{uuid.uuid4().hex}.{ext}"


class Attachment(models.Model):
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="attachments")
    transition = models.ForeignKey(Transition, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    role = models.CharField(max_length=10, choices=AttachmentRole.choices, default=AttachmentRole.BEFORE)
    file = models.FileField(upload_to=attachment_path)
    thumbnail = models.FileField(upload_to=attachment_path, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return self.name or self.file.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def is_video(self) -> bool:
        return self.content_type.startswith("video/")


class RequestKind(models.TextChoices):
    EXTENSION = "extension", _("Extension")
    SUSPENSION = "suspension", _("Suspension")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ApprovalRequest(models.Model):
    """A handler's request for more time (延期) or a pause (缓办), decided by the dispatcher."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(max_length=20, choices=RequestKind.choices)
    reason = models.TextField(_("reason"))
    hours = models.PositiveIntegerField(_("extra hours"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="pending"), name="one_pending_request_per_order"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.order_id} {self.status}"


class SupervisionNotice(models.Model):
    """督办: an overdue order flagged to the level above its handler."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="supervision_notices")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=255)
    stage = models.CharField(max_length=10, choices=Stage.choices)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()
    note = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["order", "stage", "due_at"], name="one_notice_per_missed_deadline")]

    def __str__(self):
        return f"督办 {self.order_id} {self.stage}"


class Rating(models.Model):
    """The reporter's verdict after closing: 1–5 and a comment."""

    order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.order_id} {self.score}★"


class Notification(models.Model):
    """An in-app message (the bell); email, SMS and WeChat copies go through notify.py."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False)  # notification_inbox_idx leads with it
    order = models.ForeignKey(WorkOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    verb = models.CharField(max_length=30)
    text = models.CharField(max_length=300)
    at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "at"], name="notification_inbox_idx")]

    def __str__(self):
        return self.text


# ---------------------------------------------------------------- figures (figures.py)


class FactFields(models.Model):
    """One work order as the rollups see it: its place (ancestors copied from its region path),
    the days it counts on, and its 0/1 contributions."""

    region_id = models.IntegerField()
    city_id = models.IntegerField(null=True)
    district_id = models.IntegerField(null=True)
    street_id = models.IntegerField(null=True)
    community_id = models.IntegerField(null=True)
    grid_id = models.IntegerField(null=True)
    kind = models.CharField(max_length=20)
    # The local days it counts on: reported (unless voided or a duplicate), closed, deadline.
    received_on = models.DateField(null=True)
    closed_on = models.DateField(null=True)
    due_on = models.DateField(null=True)
    on_time = models.SmallIntegerField(default=0)
    suspended = models.SmallIntegerField(default=0)
    reworked = models.SmallIntegerField(default=0)
    extended = models.SmallIntegerField(default=0)
    in_grid = models.SmallIntegerField(default=0)
    on_spot = models.SmallIntegerField(default=0)
    rated = models.SmallIntegerField(default=0)
    rating = models.SmallIntegerField(default=0)
    # Seconds spent in each stage (closed orders not settled on the spot).
    file_s = models.BigIntegerField(null=True)
    dispatch_s = models.BigIntegerField(null=True)
    handle_s = models.BigIntegerField(null=True)
    verify_s = models.BigIntegerField(null=True)
    # The deadline of an order still open (the overdue snapshot reads it).
    is_open = models.SmallIntegerField(default=0)
    open_deadline = models.DateTimeField(null=True)

    class Meta:
        abstract = True


class OrderFact(FactFields):
    """The fact row of one order, kept in step with WorkOrder by figures.refresh() (nothing
    else writes it)."""

    order_id = models.BigIntegerField(primary_key=True)

    class Meta:
        indexes = [models.Index(fields=["is_open", "open_deadline"], name="orderfact_open_idx")]

    def __str__(self):
        return f"fact {self.order_id}"


class FactStage(FactFields):
    """Work table of figures.refresh(): fresh facts of the orders changed since the watermark."""

    order_id = models.BigIntegerField(primary_key=True)

    def __str__(self):
        return f"staged fact {self.order_id}"


class FactDelta(FactFields):
    """Work table of figures.refresh(): +1 rows (new facts) and -1 rows (the facts they replace)."""

    order_id = models.BigIntegerField()
    sign = models.SmallIntegerField()

    def __str__(self):
        return f"{self.sign:+d} fact {self.order_id}"


class CellDelta(models.Model):
    """Work table of figures.refresh(): the change of every indicator in one cell."""

    level = models.PositiveSmallIntegerField()
    region_id = models.IntegerField()
    period = models.CharField(max_length=10)
    period_start = models.DateField()
    received = models.BigIntegerField(db_default=0)
    received_incident = models.BigIntegerField(db_default=0)
    received_demand = models.BigIntegerField(db_default=0)
    received_service = models.BigIntegerField(db_default=0)
    received_mediation = models.BigIntegerField(db_default=0)
    received_supervision = models.BigIntegerField(db_default=0)
    closed = models.BigIntegerField(db_default=0)
    reworked = models.BigIntegerField(db_default=0)
    extended = models.BigIntegerField(db_default=0)
    in_grid = models.BigIntegerField(db_default=0)
    on_spot = models.BigIntegerField(db_default=0)
    rated = models.BigIntegerField(db_default=0)
    rating_sum = models.BigIntegerField(db_default=0)
    file_sum = models.BigIntegerField(db_default=0)
    file_n = models.BigIntegerField(db_default=0)
    dispatch_sum = models.BigIntegerField(db_default=0)
    dispatch_n = models.BigIntegerField(db_default=0)
    handle_sum = models.BigIntegerField(db_default=0)
    handle_n = models.BigIntegerField(db_default=0)
    verify_sum = models.BigIntegerField(db_default=0)
    verify_n = models.BigIntegerField(db_default=0)
    due = models.BigIntegerField(db_default=0)
    suspended = models.BigIntegerField(db_default=0)
    on_time = models.BigIntegerField(db_default=0)

    def __str__(self):
        return f"{self.region_id} {self.period} {self.period_start}"
