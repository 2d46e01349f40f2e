"""Patrols (巡查): a grid worker starts a patrol on the phone, the phone sends its location points
in batches, the worker ends it. One `transaction.atomic` function per action.

Policies (chosen here, stated once):
- A worker has at most one active patrol. Starting another ends the active one first: at the
  new start if the old one was still sending points (its last point is less than IDLE ago), else
  at its last point (or at its own start when it never sent one: no time is credited for a
  patrol nobody walked).
- Only a grid worker of the grid (or a community worker above it, access.may_work_in) may
  patrol it; the grid defaults to the worker's only grid.
- Points are checked one by one and a bad point never spoils its batch: a point far outside the
  city, in the future, before the patrol started or after it ended is refused with a message;
  a point whose accuracy is worse than MAX_ACCURACY_M is refused too (`point_inaccurate`: it is
  not stored, so the route and the distance stay clean). A point already received (same patrol
  and time) is a duplicate and adds nothing, so a replayed batch is a no-op.
- Duration is ended - started, capped at MAX_SECONDS; a patrol left open is closed by
  `close_idle_patrols` at its last point. Distance is the haversine length of the route in
  time order, skipping points that would need more than MAX_SPEED_MS (GPS jumps).
- A patrol that crosses midnight counts on each day for the part that falls on it.
"""

import datetime as dt
import math
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, RoleAssignment, User
from linli.db import prefix_q
from linli.errors import DomainError, Forbidden, NotFound
from regions.models import Level, Region
from regions.services.geo import haversine_m

from .. import access
from ..models import Patrol, PatrolPoint, PatrolRule, PatrolStatus
from .visits import parse_when

# A phone's clock may run a little ahead or behind the server's.
CLOCK_SKEW = dt.timedelta(minutes=2)
# A patrol longer than this is a patrol somebody forgot to end.
MAX_SECONDS = 12 * 3600
# An active patrol that sent nothing for this long is closed at its last point.
IDLE = dt.timedelta(hours=2)
# Faster than this between two points is a GPS jump, not a walk (30 km/h).
MAX_SPEED_MS = 30 / 3.6
# Points less accurate than this (metres) are not kept.
MAX_ACCURACY_M = 200.0
# How far outside the city's bounding box a point may lie (metres).
CITY_MARGIN_M = 5000.0
# Points per batch.
MAX_BATCH = 500
# The seeded baseline when no rule applies (Jining: 4 hours).
DEFAULT_MIN_MINUTES = 240

# ---------------------------------------------------------------- helpers

def route_length(points, anchor=None) -> float:
    """Metres along `points` ((at, lat, lng) in time order), from `anchor` when given, leaving
    out points reached faster than MAX_SPEED_MS from the last point kept."""
    total = 0.0
    last = anchor
    for at, lat, lng in points:
        if last is not None:
            step = haversine_m(last[1], last[2], lat, lng)
            seconds = (at - last[0]).total_seconds()
            if step > 0 and (seconds <= 0 or step / seconds > MAX_SPEED_MS):
                continue
            total += step
        last = (at, lat, lng)
    return total


def _local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time()))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


def _when(value, field: str) -> dt.datetime:
    """An aware datetime (ISO string, datetime or nothing = now), never in the future."""
    return parse_when(value, field=field)


def city_box(region: Region) -> tuple[float, float, float, float] | None:
    """(min_lat, min_lng, max_lat, max_lng) of the city the region lies in, widened by
    CITY_MARGIN_M; from the city's own box, else from the boxes of the places below it (kept per
    process: fieldwork.access.city_box)."""
    box = access.city_box(region)
    if box is None:
        return None
    dlat = CITY_MARGIN_M / 111_320.0
    dlng = CITY_MARGIN_M / (111_320.0 * max(0.1, math.cos(math.radians((box[0] + box[2]) / 2))))
    return box[0] - dlat, box[1] - dlng, box[2] + dlat, box[3] + dlng


def _number(value):
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


# ---------------------------------------------------------------- lookups

def patrol_by_key(actor, key) -> Patrol:
    """The actor's own patrol by the phone's key, or by id. NotFound otherwise."""
    if isinstance(key, Patrol):
        if key.worker_id != actor.pk:
            raise NotFound("not_found", _("Not found, or outside your area."))
        return key
    text = str(key if key is not None else "").strip()[:64]
    qs = Patrol.objects.select_related("region").filter(worker=actor)
    found = qs.filter(client_key=text).first() if text else None
    if found is None and text.isdigit():
        found = qs.filter(pk=int(text)).first()
    if found is None:
        raise NotFound("patrol_unknown", _("There is no such patrol of yours."), field="patrol")
    return found


def _locked(actor, key) -> Patrol:
    """patrol_by_key with the patrol's row locked, in one query (only the patrol's row: its
    grid must not be locked for every worker patrolling it)."""
    pk = key.pk if isinstance(key, Patrol) else None
    text = "" if pk is not None else str(key if key is not None else "").strip()[:64]
    q = Q(pk=pk) if pk is not None else Q(client_key=text) if text else Q(pk__in=[])
    if text.isdigit():
        q |= Q(pk=int(text))
    rows = list(Patrol.objects.select_for_update(of=("self",)).select_related("region").filter(q, worker=actor)[:2])
    if len(rows) > 1:  # a key that is also another patrol's id: the key wins
        rows = [r for r in rows if r.client_key == text] or rows[:1]
    if not rows:
        raise NotFound("patrol_unknown", _("There is no such patrol of yours."), field="patrol")
    return rows[0]


def _grid(actor, grid) -> Region:
    if grid in (None, ""):
        ids = access.worker_grid_ids(actor)
        if not ids:
            raise Forbidden("not_grid_worker", _("Only grid workers can patrol."))
        if len(ids) > 1:
            raise DomainError("grid_required", _("You work in several grids: choose the grid you patrol."), field="grid")
        grid = ids[0]
    if not isinstance(grid, Region):
        try:
            grid = Region.objects.get(pk=int(getattr(grid, "pk", grid)))
        except (Region.DoesNotExist, ValueError, TypeError):
            raise DomainError("grid_unknown", _("There is no such grid."), field="grid")
    if grid.level != Level.GRID:
        raise DomainError("grid_unknown", _("There is no such grid."), field="grid")
    if not access.may_work_in(actor, grid.path):
        raise Forbidden("outside_grid", _("You can only patrol your own grid."), field="grid")
    return grid


# ---------------------------------------------------------------- actions

@transaction.atomic
def start_patrol(actor, *, grid=None, started_at=None, lat=None, lng=None, client_key: str = "") -> Patrol:
    """Start a patrol of `grid` (default: the worker's only grid). With a `client_key` (the
    phone's), a second call with the same key returns the first patrol unchanged. A patrol still
    active is ended first (see the module's policies)."""
    client_key = (client_key or "").strip()[:64]
    if client_key:
        existing = Patrol.objects.filter(worker=actor, client_key=client_key).first()
        if existing is not None:
            return existing
    grid = _grid(actor, grid)
    when = _when(started_at, "started_at")
    first = None
    if lat not in (None, "") or lng not in (None, ""):
        try:
            first = _check_point({"at": when, "lat": lat, "lng": lng}, city_box(grid), when - CLOCK_SKEW, None)
        except DomainError:
            first = None  # a bad first fix does not stop the patrol; the route starts at the next one
    # One active patrol per worker: lock the worker's row so two starts queue behind each other.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    for old in Patrol.objects.select_for_update().filter(worker=actor, status=PatrolStatus.ACTIVE):
        last = old.points.aggregate(m=Max("at"))["m"]
        if last is not None and when - last <= IDLE:
            end_at = max(when, last)
        else:
            end_at = last or old.started_at
        _finish(old, max(end_at, old.started_at), note="")
    patrol = Patrol(worker=actor, started_at=when, client_key=client_key)
    patrol.set_region(grid)
    try:
        with transaction.atomic():
            patrol.save()
    except IntegrityError:
        # The same start arrived twice at once; the other request saved it.
        return Patrol.objects.get(worker=actor, client_key=client_key)
    if first is not None:
        PatrolPoint.objects.create(patrol=patrol, **first)
        Patrol.objects.filter(pk=patrol.pk).update(point_count=1)
        patrol.point_count = 1
    return patrol


def _check_point(raw, box, earliest, latest) -> dict:
    """One point as model fields, or DomainError saying what is wrong with it."""
    if not isinstance(raw, dict):
        raise DomainError("point_invalid", _("A location point must have a time, a latitude and a longitude."))
    lat, lng = _number(raw.get("lat")), _number(raw.get("lng"))
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise DomainError("point_invalid", _("The location is not valid."), field="lat")
    if box is not None and not (box[0] <= lat <= box[2] and box[1] <= lng <= box[3]):
        raise DomainError("point_far", _("This location is too far from the city; it was not recorded (check the phone's location setting)."), field="lat")
    at = raw.get("at")
    if isinstance(at, str):
        try:
            at = dt.datetime.fromisoformat(at.strip().replace("Z", "+00:00"))
        except ValueError:
            raise DomainError("when_invalid", _("That date and time is not valid."), field="at")
    if not isinstance(at, dt.datetime):
        raise DomainError("when_invalid", _("That date and time is not valid."), field="at")
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > timezone.now() + CLOCK_SKEW:
        raise DomainError("point_future", _("The time of this point is in the future."), field="at")
    if at < earliest:
        raise DomainError("point_before_start", _("This point was recorded before the patrol started."), field="at")
    if latest is not None and at > latest:
        raise DomainError("point_after_end", _("This point was recorded after the patrol ended."), field="at")
    accuracy = raw.get("accuracy")
    acc = _number(accuracy)
    if accuracy not in (None, "") and (acc is None or acc < 0):
        raise DomainError("point_invalid", _("The location is not valid."), field="accuracy")
    if acc is not None and acc > MAX_ACCURACY_M:
        raise DomainError("point_inaccurate", _("This location is too imprecise (more than %(m)s m off); it was not recorded."), field="accuracy", m=int(MAX_ACCURACY_M))
    return {"at": at, "lat": lat, "lng": lng, "accuracy": acc}


@transaction.atomic
def add_points(actor, patrol, points) -> dict:
    """Add a batch of location points to the actor's patrol (a Patrol, its id or its client
    key). Answers {"accepted", "duplicates", "refused": [{"index", "code", "message",
    "message_en"}]}; refused points are reported and the rest of the batch is kept."""
    if not isinstance(points, (list, tuple)):
        raise DomainError("points_invalid", _("Send the points as a list."), field="points")
    if len(points) > MAX_BATCH:
        raise DomainError("points_too_many", _("Send at most %(n)s points at once."), field="points", n=MAX_BATCH)
    patrol = _locked(actor, patrol)
    box = city_box(patrol.region)
    earliest = patrol.started_at - CLOCK_SKEW
    latest = patrol.ended_at + CLOCK_SKEW if patrol.ended_at else None
    refused, good, seen = [], {}, set()
    duplicates = 0
    for index, raw in enumerate(points):
        try:
            p = _check_point(raw, box, earliest, latest)
        except DomainError as error:
            refused.append({"index": index, **{k: v for k, v in error.as_dict().items() if k != "field"}})
            continue
        if p["at"] in seen:
            duplicates += 1
            continue
        seen.add(p["at"])
        good[p["at"]] = p
    if good:
        known = set(PatrolPoint.objects.filter(patrol=patrol, at__in=list(good)).values_list("at", flat=True))
        duplicates += len(known)
        new = [PatrolPoint(patrol=patrol, **p) for at, p in sorted(good.items()) if at not in known]
    else:
        new = []
    if new:
        last = patrol.points.order_by("-at").values_list("at", "lat", "lng").first()
        PatrolPoint.objects.bulk_create(new, ignore_conflicts=True)
        if patrol.status == PatrolStatus.ACTIVE and (last is None or new[0].at > last[0]):
            # The usual case: the batch continues the route. Add its length; end_patrol
            # measures the whole route again.
            patrol.distance_m += round(route_length([(p.at, p.lat, p.lng) for p in new], anchor=last))
            patrol.point_count += len(new)
        else:
            _measure(patrol)
        Patrol.objects.filter(pk=patrol.pk).update(point_count=patrol.point_count, distance_m=patrol.distance_m)
    return {"accepted": len(new), "duplicates": duplicates, "refused": refused}


def _measure(patrol: Patrol):
    rows = list(patrol.points.order_by("at").values_list("at", "lat", "lng"))
    patrol.point_count = len(rows)
    patrol.distance_m = round(route_length(rows))


def _finish(patrol: Patrol, ended_at: dt.datetime, note: str):
    patrol.ended_at = ended_at
    patrol.status = PatrolStatus.ENDED
    patrol.seconds = int(min(MAX_SECONDS, max(0.0, (ended_at - patrol.started_at).total_seconds())))
    if note:
        patrol.note = note.strip()[:500]
    _measure(patrol)
    patrol.finished_at = timezone.now()
    patrol.save(update_fields=["ended_at", "status", "seconds", "note", "point_count", "distance_m", "finished_at"])


@transaction.atomic
def end_patrol(actor, patrol, *, ended_at=None, note: str = "") -> Patrol:
    """End the actor's patrol (a Patrol, its id or its client key). Ending an ended patrol
    returns it unchanged."""
    patrol = _locked(actor, patrol)
    if patrol.status == PatrolStatus.ENDED:
        return patrol
    when = _when(ended_at, "ended_at")
    if when < patrol.started_at - CLOCK_SKEW:
        raise DomainError("end_before_start", _("A patrol cannot end before it started."), field="ended_at")
    last = patrol.points.aggregate(m=Max("at"))["m"]
    # Points sent from the phone may reach the server after the end: the route's last point
    # is part of the patrol either way.
    end = max(when, patrol.started_at, last or patrol.started_at)
    _finish(patrol, end, note or "")
    return patrol


def close_idle_patrols(now: dt.datetime | None = None) -> int:
    """Close patrols left open: nothing received for IDLE, or longer than MAX_SECONDS. Each
    ends at its last point (at its start when it has none). One short transaction per patrol,
    so a worker's own end or points wait for one row at most."""
    now = now or timezone.now()
    last_point = PatrolPoint.objects.filter(patrol=OuterRef("pk")).order_by("-at").values("at")[:1]
    candidates = (
        Patrol.objects.filter(status=PatrolStatus.ACTIVE)
        .annotate(last=Subquery(last_point))
        .values_list("pk", "started_at", "last")
    )
    closed = 0
    for pk, started_at, last in list(candidates):
        seen = last or started_at
        if now - seen < IDLE and (now - started_at).total_seconds() < MAX_SECONDS:
            continue
        with transaction.atomic():
            patrol = Patrol.objects.select_for_update().filter(pk=pk, status=PatrolStatus.ACTIVE).first()
            if patrol is None:  # ended meanwhile
                continue
            seen = patrol.points.aggregate(m=Max("at"))["m"] or patrol.started_at
            if now - seen < IDLE and (now - patrol.started_at).total_seconds() < MAX_SECONDS:
                continue  # a batch arrived meanwhile
            end = min(seen, patrol.started_at + dt.timedelta(seconds=MAX_SECONDS))
            _finish(patrol, max(end, patrol.started_at), note="")
            closed += 1
    return closed


# ---------------------------------------------------------------- time per day

def _span(patrol, now) -> tuple[dt.datetime, dt.datetime]:
    if patrol.status == PatrolStatus.ENDED:
        return patrol.started_at, patrol.started_at + dt.timedelta(seconds=patrol.seconds)
    return patrol.started_at, min(now, patrol.started_at + dt.timedelta(seconds=MAX_SECONDS))


def _split(start, end, into: dict, key):
    """Add the seconds of [start, end) to into[(key, local day)] for each day they cover."""
    day = timezone.localtime(start).date()
    while start < end:
        _s, next_midnight = _local_day_bounds(day)
        stop = min(end, next_midnight)
        into[(key, day)] += int((stop - start).total_seconds())
        start, day = stop, day + dt.timedelta(days=1)


def daily_totals(scope_q: Q, day_from: dt.date, day_to: dt.date, worker_ids=None) -> dict:
    """{(worker_id, day): seconds} of the patrols matching `scope_q` (a Q on Patrol) on the
    local days day_from..day_to (inclusive); an active patrol counts up to now."""
    start, _e = _local_day_bounds(day_from)
    _s, end = _local_day_bounds(day_to)
    qs = Patrol.objects.filter(scope_q, started_at__lt=end, started_at__gte=start - dt.timedelta(seconds=MAX_SECONDS))
    if worker_ids is not None:
        qs = qs.filter(worker_id__in=list(worker_ids))
    now = timezone.now()
    totals: dict = defaultdict(int)
    for p in qs.only("worker_id", "status", "started_at", "seconds"):
        a, b = _span(p, now)
        _split(max(a, start), min(b, end), totals, p.worker_id)
    return dict(totals)


def daily_seconds(worker, day: dt.date) -> int:
    """Seconds the worker patrolled on the local day (all their patrols of that day)."""
    return daily_totals(Q(worker=worker), day, day).get((worker.pk, day), 0)


def min_minutes(region_path: str, day: dt.date) -> int:
    """The least patrol minutes per day at this place on this day: of the rules valid on the
    day, the one of the deepest area wins (then the latest start)."""
    return MinMinutes()(region_path, day)


class MinMinutes:
    """min_minutes() for many (place, day) pairs from one read of the rules."""

    def __init__(self):
        self.rules = list(PatrolRule.objects.values_list("min_minutes", "region_path", "valid_from", "valid_to"))
        self.cache: dict = {}

    def __call__(self, path: str, day: dt.date) -> int:
        key = (path, day)
        if key not in self.cache:
            best = None
            for minutes, rpath, vfrom, vto in self.rules:
                if vfrom <= day and (vto is None or day < vto) and path.startswith(rpath or ""):
                    rank = (len(rpath or ""), vfrom)
                    if best is None or rank > best[0]:
                        best = (rank, minutes)
            self.cache[key] = best[1] if best else DEFAULT_MIN_MINUTES
        return self.cache[key]


def worker_days(area_paths: list[str], day_from: dt.date, day_to: dt.date, *, grid: Region | None = None,
                offset: int = 0, limit: int = 50) -> tuple[list[dict], int]:
    """The staff table: one row per grid worker of the area (or of `grid`) per day, newest day
    first, with the day's patrol minutes against the minimum. Answers (rows, total rows)."""
    q = Q(pk__in=[])
    for path in area_paths:
        q |= prefix_q("region_path", path)
    if grid is not None:
        q &= Q(region=grid)
    # One row per worker, named by their first grid in the area; a page reads only its workers
    # (a city has tens of thousands).
    workers_q = (
        RoleAssignment.objects.filter(q, role=Role.GRID_WORKER)
        .values("user_id").annotate(path=Min("region_path")).order_by("path", "user_id")
    )
    count = RoleAssignment.objects.filter(q, role=Role.GRID_WORKER).values("user_id").distinct().count()
    days = [day_to - dt.timedelta(days=i) for i in range((day_to - day_from).days + 1)]
    total = count * len(days)
    n = max(0, min(limit, total - offset))
    if not n:
        return [], total
    first = offset % count
    if n >= count:
        spans = [(0, count)]
    elif first + n <= count:
        spans = [(first, first + n)]
    else:
        spans = [(first, count), (0, first + n - count)]
    by_index: dict = {}
    for lo, hi in spans:
        for k, row in enumerate(workers_q[lo:hi]):
            by_index[lo + k] = (row["user_id"], row["path"])
    users = User.objects.in_bulk([u for u, _p in by_index.values()])
    grids = {r.path: r for r in Region.objects.filter(path__in={p for _u, p in by_index.values()})}
    cells = []
    for i in range(offset, offset + n):
        user_id, path = by_index[i % count]
        cells.append((days[i // count], user_id, path))
    pq = Q(pk__in=[])
    for path in area_paths:
        pq |= prefix_q("region_path", path)
    ids = {u for _d, u, _p in cells}
    totals = daily_totals(pq, min(d for d, _u, _p in cells), max(d for d, _u, _p in cells), worker_ids=ids)
    rules = MinMinutes()
    rows = []
    for day, user_id, path in cells:
        seconds = totals.get((user_id, day), 0)
        minimum = rules(path, day)
        rows.append({
            "worker": users[user_id], "grid": grids.get(path), "day": day, "seconds": seconds, "minutes": seconds // 60,
            "min_minutes": minimum, "met": seconds >= minimum * 60,
            "percent": min(100, round(100 * seconds / (minimum * 60))) if minimum else 100,
        })
    return rows, total


# ---------------------------------------------------------------- reading a patrol

def route(patrol: Patrol) -> list[tuple]:
    return list(patrol.points.order_by("at").values_list("at", "lat", "lng", "accuracy"))


def geojson(patrol: Patrol, points=None) -> dict:
    """The route as a GeoJSON Feature (LineString, [lng, lat]) with the patrol's stats."""
    points = route(patrol) if points is None else points
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[round(lng, 7), round(lat, 7)] for _a, lat, lng, *_r in points]},
        "properties": {
            "id": patrol.pk,
            "status": patrol.status,
            "started_at": patrol.started_at.isoformat(),
            "ended_at": patrol.ended_at.isoformat() if patrol.ended_at else None,
            "seconds": patrol.seconds if patrol.status == PatrolStatus.ENDED else elapsed(patrol),
            "distance_m": patrol.distance_m,
            "point_count": patrol.point_count,
        },
    }


def elapsed(patrol: Patrol, now=None) -> int:
    a, b = _span(patrol, now or timezone.now())
    return max(0, int((b - a).total_seconds()))


def found_on_the_way(patrol: Patrol) -> tuple[list, list]:
    """(work orders the worker reported, visits the worker made) during the patrol."""
    from workorders.models import WorkOrder

    from ..models import Visit

    start = patrol.started_at
    end = patrol.ended_at or timezone.now()
    orders = list(
        WorkOrder.objects.filter(reporter_id=patrol.worker_id, reported_at__gte=start, reported_at__lte=end)
        .select_related("category").order_by("reported_at")
    )
    visits = list(
        Visit.objects.filter(worker_id=patrol.worker_id, visited_at__gte=start, visited_at__lte=end)
        .select_related("household__house__building").order_by("visited_at")
    )
    return orders, visits


def duration_text(seconds: int) -> str:
    """2小时15分 / 2 h 15 min, in the active language."""
    hours, minutes = divmod(max(0, int(seconds)) // 60, 60)
    if hours and not minutes:
        return str(_("%(h)sh")) % {"h": hours}
    if hours:
        return str(_("%(h)sh %(m)smin")) % {"h": hours, "m": minutes}
    return str(_("%(m)smin")) % {"m": minutes}
