"""Residents' evaluation of their grid workers, and the public grid notice (网格公示).

Rounds. Residents rate twice a year: one `EvaluationRound` per half-year (period_start 1 January
or 1 July). A round is created on demand the first time it is needed, with a window that opens
on the first day of the half and closes 15 days after the half ends (15 July / 15 January), so
that residents reached late by the community can still rate the half just ended.
Administrators (city and district) may move a round's window on the rounds page. Between 1 and
15 January / July two default windows overlap: the rating then goes to the half just ended (the
oldest open round), and the new half takes ratings once that window has closed.

Ratings. Only a resident (an account with a registry row and the resident role) who lives in a
grid (active, in a household that still exists) rates the grid workers assigned to that grid:
one rating per resident per worker per round, a score of 1 to 5 and an optional comment. Staff
see counts, averages, the distribution and the comments, never who wrote them.

Grid notice. Each grid has one `GridProfile`: duties, service commitment, service hours and a
service phone stored encrypted and shown masked. Its slug is random and unguessable and is the
address of the public page printed as a QR code on the poster. Calling the number from the public
page goes through a redirect that writes an ACCESS row to the audit log (with the caller's IP)
and is limited per IP per hour.
"""

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import roles as roles_of
from accounts.models import Role, RoleAssignment, User
from linli import pii
from linli.db import prefix_q
from linli.errors import Conflict, DomainError, Forbidden, NotFound
from regions.models import Level, Region
from registry.models import ResidentStatus

from ..access import may_work_in
from ..models import EvaluationRound, GridProfile, WorkerRating

# A worker or grid needs this many ratings in a round before its average is ranked (an
# insights RankingRule for the indicator "worker_rating" overrides it).
RANK_MIN = 5
RANK_INDICATOR = "worker_rating"
COMMENT_MAX = 500
# How long after the half ends a default round stays open.
GRACE_DAYS = 15
# The public page's call button: reveals of the service phone per IP per hour.
CALLS_PER_HOUR = 10
# Comments returned with results (the newest first, over the whole area).
COMMENTS_MAX = 500

DEFAULT_DUTIES = _(
    "Patrol the grid every day; visit every household at least twice a quarter and hardship and "
    "empty-nest households every month; collect and update household information; find and report "
    "safety hazards; help settle neighbour disputes; explain policies; help residents get services."
)
DEFAULT_COMMITMENT = _(
    "Small matters are settled within the grid, big ones within the community. Emergencies and "
    "disputes are attended at once; every request gets an answer."
)


# ---------------------------------------------------------------- rounds


def half_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 1 if day.month <= 6 else 7, 1)


def half_end(start: dt.date) -> dt.date:
    return dt.date(start.year, 6, 30) if start.month == 1 else dt.date(start.year, 12, 31)


def previous_half(start: dt.date) -> dt.date:
    return dt.date(start.year, 1, 1) if start.month == 7 else dt.date(start.year - 1, 7, 1)


def next_half(start: dt.date) -> dt.date:
    return dt.date(start.year, 7, 1) if start.month == 1 else dt.date(start.year + 1, 1, 1)


def round_name(start: dt.date) -> str:
    # The round's name is data (like a place's name), written in Chinese as it is posted.
    return f"{start.year}年{'上' if start.month == 1 else '下'}半年"


def default_round(period_start: dt.date) -> EvaluationRound:
    """The round of the half starting on `period_start`, created with the default window if it
    does not exist yet (an administrator's edited window is kept)."""
    start = half_start(period_start)
    try:
        return EvaluationRound.objects.get(period_start=start)
    except EvaluationRound.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return EvaluationRound.objects.create(
                period_start=start,
                name=round_name(start),
                opens_on=start,
                closes_on=half_end(start) + dt.timedelta(days=GRACE_DAYS),
            )
    except IntegrityError:  # created by a concurrent request
        return EvaluationRound.objects.get(period_start=start)


def current_round(day: dt.date | None = None, *, create: bool = True) -> EvaluationRound | None:
    """The round whose window holds `day` (the oldest one when two windows overlap), or None
    when no window is open. With `create`, the half's default round is made when missing."""
    day = day or timezone.localdate()
    found = EvaluationRound.objects.filter(opens_on__lte=day, closes_on__gte=day).order_by("period_start").first()
    if found is not None or not create:
        return found
    rnd = default_round(half_start(day))
    return rnd if rnd.is_open(day) else None


def last_closed_round(day: dt.date | None = None) -> EvaluationRound | None:
    day = day or timezone.localdate()
    return EvaluationRound.objects.filter(closes_on__lt=day).order_by("-period_start").first()


def rounds_for_admin(day: dt.date | None = None) -> list[EvaluationRound]:
    """The rounds an administrator manages: every existing one plus the current and the next
    half's defaults (made on demand so their windows can be set ahead)."""
    day = day or timezone.localdate()
    start = half_start(day)
    default_round(start)
    default_round(next_half(start))
    return list(EvaluationRound.objects.order_by("-period_start"))


def may_manage_rounds(user) -> bool:
    return bool(roles_of(user) & {Role.CITY_ADMIN, Role.DISTRICT_ADMIN})


@transaction.atomic
def update_round(actor, rnd: EvaluationRound, *, name: str, opens_on: dt.date | None, closes_on: dt.date | None) -> EvaluationRound:
    """Move a round's window (administrators)."""
    if not may_manage_rounds(actor):
        raise Forbidden("forbidden", _("Only city and district administrators can change rating rounds."))
    name = pii.clean_text(name)
    if not name:
        raise DomainError("name_required", _("Give the round a name."), field="name")
    if len(name) > 100:
        raise DomainError("name_too_long", _("The name can be at most 100 characters."), field="name")
    if opens_on is None:
        raise DomainError("opens_on", _("Enter the day the round opens."), field="opens_on")
    if closes_on is None:
        raise DomainError("closes_on", _("Enter the day the round closes."), field="closes_on")
    if closes_on < opens_on:
        raise DomainError("window_order", _("The round cannot close before it opens."), field="closes_on")
    if closes_on < rnd.period_start:
        raise DomainError("window_early", _("The round cannot close before its half-year begins."), field="closes_on")
    row = EvaluationRound.objects.select_for_update().get(pk=rnd.pk)
    row.name, row.opens_on, row.closes_on = name, opens_on, closes_on
    row.save()
    return row


# ---------------------------------------------------------------- who rates whom


def grid_workers(grid: Region) -> list[User]:
    """The grid workers assigned to the grid, in the order they were assigned."""
    return [
        a.user
        for a in RoleAssignment.objects.filter(role=Role.GRID_WORKER, region=grid).select_related("user").order_by("id")
        if a.user.is_active
    ]


def is_resident(user) -> bool:
    return bool(user and user.is_authenticated and user.resident_id and Role.RESIDENT in roles_of(user))


def home_grid(actor) -> Region:
    """The grid the resident lives in, or a refusal saying why they cannot rate."""
    if not is_resident(actor):
        raise Forbidden("not_resident", _("Only residents can rate their grid worker."))
    from registry.models import Resident

    me = Resident.objects.select_related("region", "household").get(pk=actor.resident_id)
    living = (
        me.status == ResidentStatus.ACTIVE
        and me.household_id is not None
        and me.household.dissolved_on is None
        and me.region.level == Level.GRID
    )
    if not living:
        raise Forbidden("not_living_here", _("Only residents living in a grid can rate its grid worker."))
    return me.region


def _worker_of(grid: Region, worker) -> User:
    worker_id = getattr(worker, "pk", worker)
    try:
        worker_id = int(worker_id)
    except (TypeError, ValueError):
        raise DomainError("worker", _("Choose the grid worker you are rating."), field="worker")
    row = (
        RoleAssignment.objects.filter(role=Role.GRID_WORKER, region=grid, user_id=worker_id, user__is_active=True)
        .select_related("user")
        .first()
    )
    if row is None:
        raise Forbidden("not_your_grid", _("You can only rate the grid workers of the grid you live in."), field="worker")
    return row.user


def _score(value) -> int:
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    score = int(text) if text.isdigit() else 0
    if not 1 <= score <= 5:
        raise DomainError("score", _("Choose from 1 to 5 stars."), field="score")
    return score


@transaction.atomic
def rate(actor, *, worker, score, comment: str = "", day: dt.date | None = None) -> WorkerRating:
    """A resident rates one of their grid's workers in the open round (once per round)."""
    grid = home_grid(actor)
    user = _worker_of(grid, worker)
    day = day or timezone.localdate()
    rnd = current_round(day)
    if rnd is None:
        raise DomainError("round_closed", _("Rating is not open at the moment. Please come back in the next round."))
    score = _score(score)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError("comment_too_long", _("The comment can be at most %(n)s characters."), field="comment", n=COMMENT_MAX)
    already = _("You have already rated this grid worker in this round.")
    if WorkerRating.objects.filter(round=rnd, resident_id=actor.resident_id, worker=user).exists():
        raise Conflict("already_rated", already)
    try:
        with transaction.atomic():
            return WorkerRating.objects.create(
                round=rnd, worker=user, resident_id=actor.resident_id, score=score, comment=comment,
                region=grid, region_path=grid.path,
            )
    except IntegrityError:  # the same resident pressed twice at once
        raise Conflict("already_rated", already)


@dataclass
class RateTarget:
    worker: User
    rating: WorkerRating | None  # the resident's rating in the open round


@dataclass
class RatePage:
    grid: Region | None
    round: EvaluationRound | None
    targets: list
    past: list  # the resident's earlier ratings, newest first
    refusal: DomainError | None = None


def rate_page(actor, day: dt.date | None = None) -> RatePage:
    """What the resident's page shows: their grid's workers with this round's rating, and their
    own past ratings."""
    day = day or timezone.localdate()
    try:
        grid = home_grid(actor)
    except DomainError as e:
        return RatePage(None, None, [], [], refusal=e)
    rnd = current_round(day)
    mine = list(
        WorkerRating.objects.filter(resident_id=actor.resident_id).select_related("round", "worker").order_by("-round__period_start", "-at")
    )
    now = {r.worker_id: r for r in mine if rnd is not None and r.round_id == rnd.pk}
    targets = [RateTarget(w, now.get(w.pk)) for w in grid_workers(grid)]
    past = [r for r in mine if rnd is None or r.round_id != rnd.pk]
    return RatePage(grid, rnd, targets, past)


# ---------------------------------------------------------------- results


def rank_minimum(on: dt.date) -> int:
    try:
        from insights.models import RankingRule
    except ImportError:  # pragma: no cover - insights is part of the project
        return RANK_MIN
    value = (
        RankingRule.objects.filter(indicator=RANK_INDICATOR, valid_from__lte=on)
        .order_by("-valid_from").values_list("min_orders", flat=True).first()
    )
    return RANK_MIN if value is None else value


@dataclass
class Tally:
    key: int
    name: str
    grid_name: str = ""
    grid_id: int | None = None
    count: int = 0
    total: int = 0
    distribution: list = field(default_factory=lambda: [0, 0, 0, 0, 0])  # scores 1..5
    comments: list = field(default_factory=list)  # {"score", "comment", "on"}: no resident
    rank: int | None = None

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 2) if self.count else None

    def add(self, score: int, n: int):
        self.count += n
        self.total += score * n
        self.distribution[score - 1] += n

    def as_dict(self, minimum: int) -> dict:
        return {
            "id": self.key, "name": self.name, "grid_id": self.grid_id, "grid": self.grid_name,
            "count": self.count, "average": self.average, "distribution": list(self.distribution),
            "ranked": self.count >= minimum, "rank": self.rank, "comments": list(self.comments),
        }


@dataclass
class Results:
    round: EvaluationRound
    minimum: int
    workers: list  # Tally per (worker, grid), ranked ones first
    grids: list  # Tally per grid
    total: Tally

    def as_dict(self) -> dict:
        return {
            "round": {"id": self.round.pk, "name": self.round.name, "period_start": self.round.period_start,
                      "opens_on": self.round.opens_on, "closes_on": self.round.closes_on},
            "minimum": self.minimum,
            "count": self.total.count,
            "average": self.total.average,
            "distribution": self.total.distribution,
            "workers": [t.as_dict(self.minimum) for t in self.workers],
            "grids": [t.as_dict(self.minimum) for t in self.grids],
        }


def _rank(tallies: list, minimum: int) -> list:
    ranked = sorted((t for t in tallies if t.count >= minimum), key=lambda t: (-t.total / t.count, -t.count, t.name))
    for i, t in enumerate(ranked, start=1):
        t.rank = i
    rest = sorted((t for t in tallies if t.count < minimum), key=lambda t: (-t.count, t.name))
    return ranked + rest


def results(region_path: str, rnd: EvaluationRound, *, comments: bool = True) -> Results:
    """Ratings of one round in an area, per worker (in each grid) and per grid. Every grid worker
    assigned in the area is listed, rated or not. Comments carry score and day, never the
    resident."""
    minimum = rank_minimum(min(rnd.closes_on, timezone.localdate()))
    in_area = WorkerRating.objects.filter(prefix_q("region_path", region_path), round=rnd)
    rows = list(in_area.values_list("worker_id", "region_id", "score").annotate(n=Count("id")).order_by())
    assigned = list(
        # Grid workers are assigned at grid level only (accounts.models.ROLE_LEVELS): no join.
        RoleAssignment.objects.filter(prefix_q("region_path", region_path), role=Role.GRID_WORKER)
        .values_list("user_id", "region_id")
    )
    grid_ids = {r for _w, r, _s, _n in rows} | {r for _u, r in assigned}
    worker_ids = {w for w, _r, _s, _n in rows} | {u for u, _r in assigned}
    grid_names = dict(Region.objects.filter(pk__in=grid_ids).values_list("id", "name"))
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=worker_ids).only("id", "username", "display_name")}

    per_worker: dict[tuple, Tally] = {}
    per_grid: dict[int, Tally] = {}
    total = Tally(0, "")

    def worker_tally(w, g):
        key = (w, g)
        if key not in per_worker:
            per_worker[key] = Tally(w, names.get(w, ""), grid_names.get(g, ""), g)
        return per_worker[key]

    def grid_tally(g):
        if g not in per_grid:
            per_grid[g] = Tally(g, grid_names.get(g, ""), grid_names.get(g, ""), g)
        return per_grid[g]

    for u, g in assigned:
        worker_tally(u, g)
        grid_tally(g)
    for w, g, score, n in rows:
        worker_tally(w, g).add(score, n)
        grid_tally(g).add(score, n)
        total.add(score, n)
    if comments:
        latest = in_area.exclude(comment="").order_by("-at", "-id").values_list("worker_id", "region_id", "score", "comment", "at")[:COMMENTS_MAX]
        for w, g, score, text, at in latest:
            item = {"score": score, "comment": text, "on": timezone.localtime(at).date()}
            worker_tally(w, g).comments.append(item)
            grid_tally(g).comments.append(item)
    return Results(rnd, minimum, _rank(list(per_worker.values()), minimum), _rank(list(per_grid.values()), minimum), total)


def worker_averages(grid: Region, rnd: EvaluationRound) -> dict[int, tuple[float, int]]:
    """{worker id: (average, count)} of the grid's ratings in a round, for workers with enough
    ratings to be shown."""
    minimum = rank_minimum(rnd.closes_on)
    rows = (
        WorkerRating.objects.filter(round=rnd, region=grid).values("worker_id").annotate(n=Count("id"), s=Sum("score")).order_by()
    )
    return {r["worker_id"]: (round(r["s"] / r["n"], 1), r["n"]) for r in rows if r["n"] >= minimum}


# ---------------------------------------------------------------- grid notice


def new_slug() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 random bits


def may_edit_notice(user, grid: Region) -> bool:
    """The grid's own worker and the community workers above it edit the grid's notice."""
    return may_work_in(user, grid.path)


def notice_of(grid: Region) -> GridProfile | None:
    return GridProfile.objects.filter(grid=grid).first()


@transaction.atomic
def update_notice(actor, grid: Region, *, duties: str = "", commitment: str = "", service_hours: str = "",
                  phone: str | None = None) -> GridProfile:
    """Write the grid's public notice. `phone` None keeps the stored number, "" removes it."""
    if grid.level != Level.GRID:
        raise NotFound("not_found", _("Not found, or outside your area."))
    if not may_edit_notice(actor, grid):
        raise Forbidden("forbidden", _("Only the grid's worker and its community's workers can edit the grid notice."))
    duties, commitment = (duties or "").strip(), (commitment or "").strip()
    service_hours = " ".join((service_hours or "").split())
    for name, value, limit in (("duties", duties, 2000), ("commitment", commitment, 2000), ("service_hours", service_hours, 100)):
        if len(value) > limit:
            raise DomainError("too_long", _("This text can be at most %(n)s characters."), field=name, n=limit)
    number = None
    if phone is not None:
        try:
            number = pii.normalize_phone(phone)
        except ValueError:
            raise DomainError("phone", _("Enter a mobile number (11 digits) or a landline with its area code."), field="phone")
    profile = GridProfile.objects.select_for_update().filter(grid=grid).first()
    if profile is None:
        profile = GridProfile(grid=grid, slug=new_slug())
    profile.duties, profile.commitment, profile.service_hours = duties, commitment, service_hours
    if number is not None:
        profile.set_phone(number)
    profile.save()
    return profile


def notice_by_slug(slug: str) -> GridProfile:
    profile = GridProfile.objects.select_related("grid").filter(slug=slug).first()
    if profile is None or profile.grid.level != Level.GRID:
        raise NotFound("not_found", _("There is no such grid notice."))
    return profile


@dataclass
class PublicNotice:
    profile: GridProfile
    grid: Region
    community: Region | None
    street: Region | None
    workers: list  # {"name", "average", "count"}
    round: EvaluationRound | None  # the last closed round, when any worker has enough ratings

    def as_dict(self) -> dict:
        p = self.profile
        return {
            "grid": self.grid.name,
            "community": self.community.name if self.community else "",
            "street": self.street.name if self.street else "",
            "workers": self.workers,
            "duties": p.duties,
            "commitment": p.commitment,
            "service_hours": p.service_hours,
            "phone": p.phone_masked,
            "rating_round": self.round.name if self.round else None,
        }


def public_notice(profile: GridProfile, day: dt.date | None = None) -> PublicNotice:
    """Only what may be posted on a wall: no resident's data, the phone masked."""
    grid = profile.grid
    ancestors = {r.level: r for r in Region.objects.filter(path__in=[grid.path[:i] for i in range(Region.steplen, len(grid.path), Region.steplen)])}
    rnd = last_closed_round(day)
    averages = worker_averages(grid, rnd) if rnd else {}
    workers = [
        {"name": str(w), "average": averages.get(w.pk, (None, 0))[0], "count": averages.get(w.pk, (None, 0))[1]}
        for w in grid_workers(grid)
    ]
    return PublicNotice(profile, grid, ancestors.get(Level.COMMUNITY), ancestors.get(Level.STREET), workers, rnd if averages else None)


@transaction.atomic
def call_number(profile: GridProfile, *, ip: str | None, user=None) -> str:
    """The plain service phone for the public page's call button; the reveal is logged
    (audit-log ACCESS row with the IP) and limited per IP per hour."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    if not profile.phone_enc:
        raise NotFound("no_phone", _("This grid has no service phone yet."))
    kind = ContentType.objects.get_for_model(GridProfile)
    since = timezone.now() - dt.timedelta(hours=1)
    if ip:
        recent = LogEntry.objects.filter(
            action=LogEntry.Action.ACCESS, content_type=kind, remote_addr=ip, timestamp__gte=since
        ).count()
        if recent >= CALLS_PER_HOUR:
            raise DomainError("too_many_calls", _("Too many calls from this network. Please try again in an hour."), status=429)
    number = profile.reveal_phone()
    LogEntry.objects.log_create(
        profile,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        changes={"phone": ["***", "revealed"]},
        actor=user if user is not None and user.is_authenticated else None,
        remote_addr=ip or None,
        additional_data={"field": "phone", "via": "public_notice_call"},
    )
    return number
