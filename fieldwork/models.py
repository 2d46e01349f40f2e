"""Field work of grid workers: patrols, household visits, the visit rules (三必) and the due
lists they produce, must-attend timing, workload facts and residents' evaluations.

Glossary
- patrol (巡查): a timed walk through the grid; its route is a series of location points.
- visit (入户走访): a call on a household; it counts towards every visit rule the household falls
  under in the period it happened.
- visit rule: "households with tags T need N visits per period P", with effective dates and an
  optional area. The Jining baseline: every household twice a quarter; hardship and empty-nest
  households monthly (三必 must-visit).
- due item: one household under one rule in one period: required, done, and the day the next
  visit is due. The current period's items are a grid worker's due list; past items are the
  history that coverage is computed from.
- attendance: a grid worker's arrival at a must-attend (三必) work order, timed from its report.
- evaluation round: a half-year window in which residents rate their grid worker.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli import pii
from registry.models import Scoped, scope_index


class Period(models.TextChoices):
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class Target(models.TextChoices):
    ALL = "all", _("All households")
    TAGS = "tags", _("Households with any of the tags")
    KEY = "key", _("Households with a key person")


class VisitRule(models.Model):
    """How often households of a kind must be visited. Rows, not code (DESIGN contract 4)."""

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    target = models.CharField(_("applies to"), max_length=10, choices=Target.choices, default=Target.ALL)
    tags = models.ManyToManyField("registry.CareTag", blank=True, related_name="+", verbose_name=_("tags"))
    visits = models.PositiveSmallIntegerField(_("visits per period"), default=1)
    period = models.CharField(_("period"), max_length=10, choices=Period.choices, default=Period.QUARTER)
    # Higher weight = more vulnerable: comes first in the due list among equally due households.
    weight = models.PositiveSmallIntegerField(_("priority weight"), default=1)
    must_visit = models.BooleanField(_("must visit (三必)"), default=False)
    # Empty: the whole city. Otherwise the rule applies in this region's subtree only.
    region = models.ForeignKey("regions.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    region_path = models.CharField(max_length=255, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-weight", "code", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["code", "valid_from"], name="visitrule_code_from_unique")]
        verbose_name = _("visit rule")
        verbose_name_plural = _("visit rules")

    def __str__(self):
        return self.name

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class DueItem(models.Model):
    """One household under one rule in one period. Written only by fieldwork.services.dues."""

    household = models.ForeignKey("registry.Household", on_delete=models.CASCADE, related_name="+", db_index=False)
    rule = models.ForeignKey(VisitRule, on_delete=models.CASCADE, related_name="+", db_index=False)
    grid = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+", db_index=False)
    region_path = models.CharField(max_length=255)
    period_start = models.DateField()
    period_end = models.DateField()
    required = models.PositiveSmallIntegerField()
    done = models.PositiveSmallIntegerField(default=0)
    last_visit_on = models.DateField(null=True, blank=True)
    # The day by which the next visit is due (visits spread evenly over the period); empty when done.
    due_on = models.DateField(null=True, blank=True)
    weight = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household", "rule", "period_start"], name="dueitem_unique"),
        ]
        indexes = [
            # A worker's due list: the current items of their grids.
            models.Index(fields=["grid", "period_end", "due_on"], name="dueitem_grid_idx"),
            scope_index("dueitem_scope_idx", "period_end"),
            models.Index(fields=["rule", "period_start"], name="dueitem_rule_idx"),
        ]

    def __str__(self):
        return f"household {self.household_id} rule {self.rule_id} {self.period_start}: {self.done}/{self.required}"

    @property
    def is_done(self) -> bool:
        return self.done >= self.required


class DuePeriod(models.Model):
    """Marks that the items of (rule, period) have been built, so the daily job builds each
    new period once."""

    rule = models.ForeignKey(VisitRule, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    built_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "period_start"], name="dueperiod_unique")]

    def __str__(self):
        return f"rule {self.rule_id} {self.period_start}"


class VisitKind(models.TextChoices):
    ROUTINE = "routine", _("Routine visit")
    CARE = "care", _("Care visit")
    MUST = "must", _("三必 visit")
    FOLLOW_UP = "follow_up", _("Follow-up")


class Visit(Scoped):
    """One call on a household. `region` is the household's grid."""

    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="visits", db_index=False)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits")
    visited_at = models.DateTimeField(_("visited at"))
    kind = models.CharField(_("kind"), max_length=20, choices=VisitKind.choices, default=VisitKind.ROUTINE)
    met = models.ManyToManyField("registry.Resident", blank=True, related_name="+", verbose_name=_("who was met"))
    met_note = models.CharField(_("who was met (others)"), max_length=200, blank=True)
    nobody_home = models.BooleanField(_("nobody at home"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    findings = models.TextField(_("what was found"), blank=True)
    # A finding that became a work order (incident or resident demand) in the same step.
    order = models.ForeignKey("workorders.WorkOrder", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # What a follow-up visit follows up.
    follows_order = models.ForeignKey("workorders.WorkOrder", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    follows_case = models.ForeignKey("mediation.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    # The idempotency key of an offline upload ("" for a visit entered online).
    client_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_at", "-id"]
        indexes = [
            models.Index(fields=["household", "visited_at"], name="visit_household_idx"),
            scope_index("visit_scope_idx", "visited_at"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["worker", "client_key"], condition=~models.Q(client_key=""), name="visit_client_key_unique"),
        ]

    def __str__(self):
        return f"visit {self.household_id} {self.visited_at:%Y-%m-%d}"


def photo_path(instance, filename):
    import uuid

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"fieldwork/{dt.date.today():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class VisitPhoto(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to=photo_path)
    thumbnail = models.FileField(upload_to=photo_path, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.file.name


class PatrolRule(models.Model):
    """The least patrol time a grid worker should log per working day (Jining: 4 hours)."""

    min_minutes = models.PositiveSmallIntegerField(_("minimum minutes per day"), default=240)
    region = models.ForeignKey("regions.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    region_path = models.CharField(max_length=255, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("patrol rule")

    def __str__(self):
        return f"≥ {self.min_minutes} min from {self.valid_from}"


class PatrolStatus(models.TextChoices):
    ACTIVE = "active", _("On patrol")
    ENDED = "ended", _("Ended")


class Patrol(Scoped):
    """One patrol. `region` is the grid patrolled."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patrols")
    status = models.CharField(max_length=10, choices=PatrolStatus.choices, default=PatrolStatus.ACTIVE)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    seconds = models.PositiveIntegerField(default=0)
    distance_m = models.PositiveIntegerField(default=0)
    point_count = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=500, blank=True)
    client_key = models.CharField(max_length=64, blank=True)
    # When the server recorded the end (ended_at is the phone's time, days earlier for a patrol
    # sent after a long time without signal): the figures take up patrols ended since their
    # last refresh by this.
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["worker", "started_at"], name="patrol_worker_idx"),
            scope_index("patrol_scope_idx", "started_at"),
            models.Index(fields=["finished_at"], name="patrol_finished_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["worker", "client_key"], condition=~models.Q(client_key=""), name="patrol_client_key_unique"),
        ]

    def __str__(self):
        return f"patrol {self.worker_id} {self.started_at:%Y-%m-%d %H:%M}"


class PatrolPoint(models.Model):
    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="points", db_index=False)
    at = models.DateTimeField()
    lat = models.FloatField()
    lng = models.FloatField()
    accuracy = models.FloatField(null=True, blank=True)

    class Meta:
        # A replayed batch carries the same timestamps: the constraint makes it a no-op.
        constraints = [models.UniqueConstraint(fields=["patrol", "at"], name="patrolpoint_unique")]
        ordering = ["at"]

    def __str__(self):
        return f"{self.lat},{self.lng} @ {self.at:%H:%M:%S}"


class Attendance(Scoped):
    """A grid worker's arrival at a must-attend (三必) work order; timed from its report."""

    order = models.OneToOneField("workorders.WorkOrder", on_delete=models.CASCADE, related_name="attendance")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField()
    arrived_at = models.DateTimeField()
    seconds = models.PositiveIntegerField()
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    client_key = models.CharField(max_length=64, blank=True)
    # When the server received it (arrived_at is the phone's time, days earlier for an arrival
    # sent after a long time without signal): the figures take up arrivals received since their
    # last refresh by this.
    recorded_at = models.DateTimeField(auto_now_add=True, null=True)

    class Meta:
        indexes = [scope_index("attendance_scope_idx", "arrived_at"), models.Index(fields=["recorded_at"], name="attendance_recorded_idx")]

    def __str__(self):
        return f"attended {self.order_id} in {self.seconds}s"


class SyncReceipt(models.Model):
    """The answer given to one offline upload, kept so that a replay gets the same answer and
    never a second row (the idempotency key is the phone's, unique per user)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=64)
    kind = models.CharField(max_length=20)
    status = models.CharField(max_length=10)  # ok | refused
    object_id = models.BigIntegerField(null=True, blank=True)
    result = models.JSONField(default=dict)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="syncreceipt_unique")]

    def __str__(self):
        return f"{self.user_id}:{self.key} {self.status}"


class WorkerDay(models.Model):
    """A grid worker's workload on one local day in one grid (facts for compliance figures and
    worker rankings). Written only by fieldwork.figures."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    grid = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+", db_index=False)
    region_path = models.CharField(max_length=255)
    day = models.DateField()
    patrol_seconds = models.PositiveIntegerField(default=0)
    patrol_min_met = models.BooleanField(default=False)
    visits = models.PositiveIntegerField(default=0)
    reports = models.PositiveIntegerField(default=0)
    orders_due = models.PositiveIntegerField(default=0)
    orders_on_time = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["worker", "grid", "day"], name="workerday_unique")]
        indexes = [scope_index("workerday_scope_idx", "day")]

    def __str__(self):
        return f"{self.worker_id} {self.day}"


class WorkerMonth(models.Model):
    """The sums of one grid worker's WorkerDay rows of one month in one grid, kept with them
    (fieldwork.figures): the dashboards rank the workers of an area from a row per worker and
    month, not from every worker-day (a city of 20,000 workers has 440,000 in a month)."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    grid = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+", db_index=False)
    region_path = models.CharField(max_length=255)
    month = models.DateField()
    days = models.PositiveIntegerField(default=0)
    days_met = models.PositiveIntegerField(default=0)
    patrol_seconds = models.PositiveBigIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    reports = models.PositiveIntegerField(default=0)
    orders_due = models.PositiveIntegerField(default=0)
    orders_on_time = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["worker", "grid", "month"], name="workermonth_unique")]
        indexes = [scope_index("workermonth_scope_idx", "month")]

    def __str__(self):
        return f"{self.worker_id} {self.month:%Y-%m}"


class GridProfile(models.Model):
    """The public notice (网格公示) of a grid: duties, service commitment, contact."""

    grid = models.OneToOneField("regions.Region", on_delete=models.CASCADE, related_name="grid_profile")
    # An unguessable public address for the QR code.
    slug = models.SlugField(max_length=32, unique=True)
    duties = models.TextField(_("duties"), blank=True)
    commitment = models.TextField(_("service commitment"), blank=True)
    service_hours = models.CharField(_("service hours"), max_length=100, blank=True)
    phone_enc = models.TextField(blank=True)
    phone_masked = models.CharField(_("service phone"), max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    AAD_PHONE = b"fieldwork.gridprofile.phone"
    ENCRYPTED_FIELDS = {"phone_enc": AAD_PHONE}

    def __str__(self):
        return f"notice of {self.grid_id}"

    def set_phone(self, phone: str):
        self.phone_enc = pii.encrypt(phone, self.AAD_PHONE) if phone else ""
        self.phone_masked = pii.mask_phone(phone) if phone else ""

    def reveal_phone(self) -> str:
        return pii.decrypt(self.phone_enc, self.AAD_PHONE) if self.phone_enc else ""


class EvaluationRound(models.Model):
    """A half-year window in which residents rate their grid worker (twice a year)."""

    name = models.CharField(_("name"), max_length=100)
    period_start = models.DateField(_("period start"), unique=True)
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))

    class Meta:
        ordering = ["-period_start"]

    def __str__(self):
        return self.name

    def is_open(self, day: dt.date) -> bool:
        return self.opens_on <= day <= self.closes_on


class WorkerRating(Scoped):
    """One resident's rating of their grid worker in one round. `region` is the grid."""

    round = models.ForeignKey(EvaluationRound, on_delete=models.PROTECT, related_name="ratings")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    resident = models.ForeignKey("registry.Resident", on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField()
    comment = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "resident", "worker"], name="workerrating_once_per_round"),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="workerrating_score_range"),
        ]
        indexes = [scope_index("workerrating_scope_idx", "round")]

    def __str__(self):
        return f"{self.score} for {self.worker_id}"
