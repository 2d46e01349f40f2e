"""What field work feeds insights: the worker-day facts, the `fw.*` roll-ups, and the compliance
board (走访巡查考核) the dashboard, its Excel export and the API read from them.

1. Facts. A WorkerDay row is one grid worker's work on one local day in one grid: patrol
   seconds (a patrol crossing midnight is split at local midnight), whether that met the patrol
   rule of the day (the deepest area's PatrolRule wins), visits made, work orders reported (source
   grid), and the orders assigned to the worker whose deadline fell that day (and passed), with
   those closed by the deadline. `refresh()` (every 10 minutes) rewrites only the worker-days
   touched since the watermark "fw": visits created, patrols ended (by the server's clock, so a
   patrol sent days late from a phone counts at once), orders changed or whose deadline passed;
   a patrol rule added or changed re-judges the patrol minimum of its area's worker-days from
   its first day. `rebuild()` recomputes all; the tests check both give the same rows.
   Coverage and the overdue count of a grid are recomputed when its visits, care tags, residents
   or households changed (the audit log says which); a changed visit rule, a new period and the
   passing of a day are taken up by the daily pass `refresh_recent()` (and by `refresh()` when a
   rule changed).

2. Roll-ups (insights Rollup, indicators `fw.*`, periods month / quarter / year; the overdue
   snapshot is a "day" row of today). A unit's cell is the sum of its own rows (rows whose region
   is the unit itself) and of its children's cells, so a change in one grid recomputes that grid
   from the raw rows and then each ancestor from its children's stored cells: the work is one
   grid's rows plus a few children per level, never a whole city.

| indicator                  | counted on                   | what                                            |
| fw.coverage.required       | the item's last day (today   | due items (household × rule × period)           |
| fw.coverage.met            |  for the current period)     | of those, done >= required                      |
| fw.overdue (day, today)    | today                        | households with a current item not done, due_on |
|                            |                              | before today                                    |
| fw.visits                  | the visit's day              | visits                                          |
| fw.patrol.seconds          | the day patrolled            | patrol seconds                                  |
| fw.patrol.worker_days      | the day                      | worker-days with any field work (WorkerDay rows)|
| fw.patrol.days_met         | the day                      | of those, patrol minimum met                    |
| fw.reports                 | the day reported             | work orders a grid worker reported              |
| fw.orders.due / .on_time   | the deadline's day           | the workers' orders due, and closed by then     |
| fw.attend.count / .seconds | the arrival's day            | must-attend arrivals and seconds from the report|
| fw.rating.count / .sum     | the rating's day             | residents' ratings of grid workers, and stars   |

coverage % = met / required; avg patrol hours per worker-day = seconds / 3600 / worker_days;
share of worker-days meeting the minimum = days_met / worker_days; on-time % = on_time / due;
average arrival minutes = attend.seconds / attend.count / 60; evaluation = rating.sum / count.

3. The board. A place's figures for a month, quarter or year read from its fw.* cells, the
   monthly trend, the units below ranked, and the grid workers of the area ranked from their
   month rows (WorkerMonth). A unit or worker is ranked once its basis (households, worker-days,
   orders or ratings) reaches the minimum of the RankingRule "fw.<key>" / "fw.worker.<key>".
"""

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, Sum, When
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.models import Role, RoleAssignment, User
from insights import services as periods
from insights.access import Board, BoardSpec, Span, build, min_orders, rank, register
from insights.models import Rollup, Watermark
from insights.services import ancestor_paths, period_end, period_start
from linli.db import prefix_q
from regions.models import Region
from workorders.models import Source, Status, WorkOrder

from .models import Attendance, DueItem, Patrol, PatrolStatus, Visit, WorkerDay, WorkerMonth, WorkerRating
from .services.patrols import MinMinutes

WATERMARK = "fw"
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
OVERLAP = dt.timedelta(seconds=120)
PERIODS = ("month", "quarter", "year")
GRID_DEPTH = 5

INDICATORS = (
    "fw.coverage.required",
    "fw.coverage.met",
    "fw.visits",
    "fw.patrol.seconds",
    "fw.patrol.worker_days",
    "fw.patrol.days_met",
    "fw.reports",
    "fw.orders.due",
    "fw.orders.on_time",
    "fw.attend.count",
    "fw.attend.seconds",
    "fw.rating.count",
    "fw.rating.sum",
)
SNAPSHOT = "fw.overdue"
FACT_FIELDS = ("patrol_seconds", "patrol_min_met", "visits", "reports", "orders_due", "orders_on_time")


# ---------------------------------------------------------------- periods


def worker_day_sums() -> dict:
    """The sums of a group of WorkerDay rows: worker-days, days meeting the patrol minimum,
    patrol seconds, visits, reports, orders due and closed on time."""
    return {
        "n": Count("id"),
        "met": Sum(Case(When(patrol_min_met=True, then=1), default=0, output_field=IntegerField())),
        "seconds": Sum("patrol_seconds"),
        "visits": Sum("visits"),
        "reports": Sum("reports"),
        "due": Sum("orders_due"),
        "on_time": Sum("orders_on_time"),
    }


def cells_of(day: dt.date | None) -> set[tuple[str, dt.date]]:
    return periods.cells(day, PERIODS)


def _local(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


# ---------------------------------------------------------------- facts


class _Grids:
    """The grid a work order counts in for a worker: the grid its place lies in, else the
    worker's own grid."""

    def __init__(self):
        self.by_path: dict[str, tuple[int, str]] = {}
        self.own: dict[int, tuple[int, str]] = {}
        for user_id, region_id, path in RoleAssignment.objects.filter(role=Role.GRID_WORKER).values_list("user_id", "region_id", "region_path"):
            self.own.setdefault(user_id, (region_id, path))

    def workers(self) -> set[int]:
        return set(self.own)

    def of(self, worker_id: int, path: str) -> tuple[int, str] | None:
        step = Region.steplen
        if len(path) >= GRID_DEPTH * step:
            gpath = path[: GRID_DEPTH * step]
            if gpath not in self.by_path:
                rid = Region.objects.filter(path=gpath).values_list("pk", flat=True).first()
                self.by_path[gpath] = (rid, gpath) if rid else None
            if self.by_path[gpath]:
                return self.by_path[gpath]
        return self.own.get(worker_id)


def _split(start: dt.datetime, end: dt.datetime):
    """(local day, seconds) of [start, end), cut at local midnights."""
    day = _local(start)
    while start < end:
        stop = min(end, _midnight(day + dt.timedelta(days=1)))
        yield day, int((stop - start).total_seconds())
        start, day = stop, day + dt.timedelta(days=1)


def _patrol_seconds(qs) -> dict:
    """{(worker, grid id, grid path, day): seconds} of ended patrols."""
    out: dict = defaultdict(int)
    for w, g, path, started, seconds in qs.values_list("worker_id", "region_id", "region_path", "started_at", "seconds"):
        for day, s in _split(started, started + dt.timedelta(seconds=seconds)):
            out[(w, g, path, day)] += s
    return out


def compute_days(pairs: set | None, now: dt.datetime | None = None) -> dict:
    """The WorkerDay values of the (worker id, day) pairs given (None: every worker-day):
    {(worker, grid, day): {"region_path", fields...}}. Days with nothing done have no row."""
    now = now or timezone.now()
    workers = lo = hi = None
    if pairs is not None:
        if not pairs:
            return {}
        workers = sorted({w for w, _d in pairs})
        lo = _midnight(min(d for _w, d in pairs))
        hi = _midnight(max(d for _w, d in pairs) + dt.timedelta(days=1))
    out: dict = {}

    def row(w, g, path, day):
        if pairs is not None and (w, day) not in pairs:
            return None
        key = (w, g, day)
        if key not in out:
            out[key] = {"region_path": path, "patrol_seconds": 0, "patrol_min_met": False, "visits": 0, "reports": 0, "orders_due": 0, "orders_on_time": 0}
        return out[key]

    def window(qs, field, worker_field):
        if workers is not None:
            qs = qs.filter(**{f"{worker_field}__in": workers, f"{field}__gte": lo, f"{field}__lt": hi})
        return qs

    patrols = Patrol.objects.filter(status=PatrolStatus.ENDED)
    if workers is not None:
        # A patrol lasts at most a day: one that began the day before may reach into the window.
        patrols = patrols.filter(worker_id__in=workers, started_at__lt=hi, started_at__gte=lo - dt.timedelta(days=1))
    for (w, g, path, day), s in _patrol_seconds(patrols).items():
        r = row(w, g, path, day)
        if r is not None:
            r["patrol_seconds"] += s

    for w, g, path, at in window(Visit.objects.all(), "visited_at", "worker_id").values_list("worker_id", "region_id", "region_path", "visited_at"):
        r = row(w, g, path, _local(at))
        if r is not None:
            r["visits"] += 1

    grids = _Grids()
    field_workers = grids.workers()
    reports = window(WorkOrder.objects.filter(source=Source.GRID, reporter__isnull=False), "reported_at", "reporter_id")
    for w, path, at in reports.values_list("reporter_id", "region_path", "reported_at"):
        grid = grids.of(w, path) if w in field_workers else None
        r = row(w, *grid, _local(at)) if grid else None
        if r is not None:
            r["reports"] += 1

    due = window(
        WorkOrder.objects.filter(assignee__isnull=False, deadline__isnull=False, deadline__lte=now).exclude(status__in=[Status.VOIDED, Status.DUPLICATE]),
        "deadline",
        "assignee_id",
    )
    for w, path, deadline, status, closed_at in due.values_list("assignee_id", "region_path", "deadline", "status", "closed_at"):
        grid = grids.of(w, path) if w in field_workers else None
        r = row(w, *grid, _local(deadline)) if grid else None
        if r is not None:
            r["orders_due"] += 1
            if status == Status.CLOSED and closed_at is not None and closed_at <= deadline:
                r["orders_on_time"] += 1

    minimum = MinMinutes()
    for (_w, _g, day), r in out.items():
        r["patrol_min_met"] = r["patrol_seconds"] > 0 and r["patrol_seconds"] >= minimum(r["region_path"], day) * 60
    return out


def _stored_days(pairs: set | None) -> dict:
    qs = WorkerDay.objects.all()
    if pairs is not None:
        if not pairs:
            return {}
        qs = qs.filter(worker_id__in={w for w, _d in pairs}, day__in={d for _w, d in pairs})
    out = {}
    for r in qs.values("pk", "worker_id", "grid_id", "day", "region_path", *FACT_FIELDS):
        if pairs is None or (r["worker_id"], r["day"]) in pairs:
            out[(r["worker_id"], r["grid_id"], r["day"])] = r
    return out


def touched_pairs(since: dt.datetime, now: dt.datetime) -> set:
    """(worker, day) of every fact source changed since `since`."""
    pairs = set()
    for w, at in Visit.objects.filter(created_at__gte=since).values_list("worker_id", "visited_at"):
        pairs.add((w, _local(at)))
    # Ended since, by the server's clock: a patrol sent from a phone that had no signal for days
    # carries its own, earlier times.
    patrols = Patrol.objects.filter(status=PatrolStatus.ENDED, finished_at__gte=since)
    for w, _g, _p, day in _patrol_seconds(patrols):
        pairs.add((w, day))
    orders = WorkOrder.objects.filter(Q(updated_at__gte=since) | Q(deadline__gte=since, deadline__lte=now))
    passed = {}  # order id -> (grid path, deadline day) of orders whose deadline has passed
    for pk, reporter, source, reported, assignee, deadline, path in orders.values_list(
            "pk", "reporter_id", "source", "reported_at", "assignee_id", "deadline", "region_path"):
        if reporter and source == Source.GRID:
            pairs.add((reporter, _local(reported)))
        if deadline and deadline <= now:
            if assignee:
                pairs.add((assignee, _local(deadline)))
            if len(path) >= GRID_DEPTH * Region.steplen:
                passed[pk] = (path[: GRID_DEPTH * Region.steplen], _local(deadline))
    return pairs | _former_assignees(passed, since)


def _former_assignees(passed: dict, since: dt.datetime) -> set:
    """An order due and then dispatched to someone else (or escalated) no longer counts for the
    worker who had it: the worker-days with orders due on its deadline day in its grid are
    recomputed too. Only orders with such a step since `since` are looked at."""
    from workorders.models import Transition

    moved: set = set()
    ids = sorted(passed)
    for chunk in _chunks(ids):
        moved |= set(Transition.objects.filter(order_id__in=chunk, at__gte=since, action__in=("dispatch", "escalate"))
                     .values_list("order_id", flat=True))
    cells = {passed[pk] for pk in moved}
    pairs = set()
    for chunk in _chunks(sorted(cells)):
        q = Q()
        for path, day in chunk:
            q |= Q(region_path=path, day=day)
        pairs |= set(WorkerDay.objects.filter(q, orders_due__gt=0).values_list("worker_id", "day"))
    return pairs


def registry_paths(since: dt.datetime) -> tuple[set, bool]:
    """Grids whose due items may have changed since `since` (care tags, residents or households
    changed, read from the audit log), and whether a visit rule changed (then every grid)."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from registry.models import Household, Resident, ResidentTag

    from .models import VisitRule

    cts = ContentType.objects.get_for_models(ResidentTag, Resident, Household, VisitRule)
    by_ct = {ct.pk: model for model, ct in cts.items()}
    ids: dict = defaultdict(set)
    for ct_id, pk in LogEntry.objects.filter(timestamp__gte=since, content_type_id__in=list(by_ct)).values_list("content_type_id", "object_pk"):
        ids[by_ct[ct_id]].add(pk)
    paths = set()
    for model in (ResidentTag, Resident, Household):
        for chunk in _chunks(sorted(ids.get(model, ()))):
            paths |= set(model.objects.filter(pk__in=chunk).values_list("region_path", flat=True))
    return paths, bool(ids.get(VisitRule))


def patrol_rule_areas(since: dt.datetime) -> list[tuple[str, dt.date]]:
    """(area path, first day) whose patrol minimum may have changed since `since`: for every
    patrol rule added, changed or end-dated (the audit log says which and what it was), its
    area before and after, from the earliest of its dates before and after."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from .models import PatrolRule

    ct = ContentType.objects.get_for_model(PatrolRule)
    entries = list(LogEntry.objects.filter(timestamp__gte=since, content_type=ct).values_list("object_pk", "changes"))
    if not entries:
        return []
    rules = {str(r.pk): r for r in PatrolRule.objects.filter(pk__in={pk for pk, _c in entries if str(pk).isdigit()})}
    out = []
    for pk, changes in entries:
        changes = changes or {}
        paths, days = set(), set()
        rule = rules.get(str(pk))
        if rule is not None:
            paths.add(rule.region_path)
            days.add(rule.valid_from)
        # Values as the audit log writes them: text, "None" for nothing.
        paths |= {v for v in changes.get("region_path") or [] if isinstance(v, str) and v != "None"}
        for field in ("valid_from", "valid_to"):
            for v in changes.get(field) or []:
                if isinstance(v, str) and len(v) >= 10 and v[:4].isdigit():
                    try:
                        days.add(dt.date.fromisoformat(v[:10]))
                    except ValueError:
                        continue
        if not days:
            continue
        first = min(days)
        out += [(path, first) for path in (paths or {""})]
    return out


def rule_flags(areas: list[tuple[str, dt.date]]) -> dict[str, set]:
    """Re-judge `patrol_min_met` of the worker-days in `areas` (from patrol_rule_areas) against
    the rules now in force; returns the {grid path: days} whose figures changed."""
    changed: dict[str, set] = defaultdict(set)
    if not areas:
        return changed
    minimum = MinMinutes()
    flips: dict[bool, list] = {True: [], False: []}
    seen = set()
    for path, first in areas:
        rows = WorkerDay.objects.filter(prefix_q("region_path", path), day__gte=first).order_by()
        for pk, rpath, day, seconds, met in rows.values_list("pk", "region_path", "day", "patrol_seconds", "patrol_min_met").iterator(chunk_size=5000):
            if pk in seen:
                continue
            seen.add(pk)
            now_met = seconds > 0 and seconds >= minimum(rpath, day) * 60
            if now_met != met:
                flips[now_met].append(pk)
                changed[rpath].add(day)
    for value, pks in flips.items():
        for chunk in _chunks(pks):
            WorkerDay.objects.filter(pk__in=chunk).update(patrol_min_met=value)
    return changed


def write_days(pairs: set | None, now: dt.datetime) -> dict[str, set]:
    """Bring the WorkerDay rows of `pairs` (None: all) in line with the sources; returns the
    {grid path: days} whose figures changed."""
    fresh = compute_days(pairs, now)
    stored = _stored_days(pairs)
    changed: dict[str, set] = defaultdict(set)
    drop, add = [], []
    for key, old in stored.items():
        new = fresh.get(key)
        if new is None or any(new[f] != old[f] for f in FACT_FIELDS) or new["region_path"] != old["region_path"]:
            drop.append(old["pk"])
            changed[old["region_path"]].add(key[2])
    for key, new in fresh.items():
        old = stored.get(key)
        if old is None or old["pk"] in drop:
            w, g, day = key
            add.append(WorkerDay(worker_id=w, grid_id=g, day=day, **new))
            changed[new["region_path"]].add(day)
    for i in range(0, len(drop), 500):
        WorkerDay.objects.filter(pk__in=drop[i : i + 500]).delete()
    WorkerDay.objects.bulk_create(add, batch_size=1000)
    return changed


def write_months(changed: dict[str, set] | None) -> int:
    """Rewrite the WorkerMonth rows of the grids and months in `changed` ({grid path: days};
    None: all) from their worker-days; returns the rows written."""
    if changed is None:
        WorkerMonth.objects.all().delete()
        return _month_rows(WorkerDay.objects.all())
    cells = sorted({(path, period_start("month", d)) for path, days in changed.items() for d in days})
    written = 0
    for chunk in _chunks(cells, 200):
        keys, days = Q(pk__in=[]), Q(pk__in=[])
        for path, month in chunk:
            keys |= Q(region_path=path, month=month)
            days |= Q(region_path=path, day__gte=month, day__lt=period_end("month", month))
        WorkerMonth.objects.filter(keys).delete()
        written += _month_rows(WorkerDay.objects.filter(days))
    return written


def _month_rows(worker_days) -> int:
    rows = (worker_days.annotate(m=TruncMonth("day")).values("worker_id", "grid_id", "region_path", "m")
            .annotate(**worker_day_sums()).order_by())
    made = [
        WorkerMonth(worker_id=r["worker_id"], grid_id=r["grid_id"], region_path=r["region_path"], month=_as_date(r["m"]),
                    days=r["n"], days_met=r["met"] or 0, patrol_seconds=r["seconds"] or 0, visits=r["visits"] or 0,
                    reports=r["reports"] or 0, orders_due=r["due"] or 0, orders_on_time=r["on_time"] or 0)
        for r in rows.iterator(chunk_size=5000)
    ]
    WorkerMonth.objects.bulk_create(made, batch_size=1000)
    return len(made)


# ---------------------------------------------------------------- roll-ups


def _month_cells(month: dt.date, cells: set) -> list:
    return [c for c in ((p, period_start(p, month)) for p in PERIODS) if c in cells]


def _own(paths: list[str], cells: set, today: dt.date) -> dict:
    """{(path, period, start): {indicator: value}} of the rows whose region is one of `paths`."""
    out: dict = defaultdict(lambda: defaultdict(float))
    ranged = [c for c in cells if c[0] != "day"]
    if not paths:
        return out
    if ranged:
        lo = min(s for _p, s in ranged)
        hi = max(period_end(p, s) for p, s in ranged)

        def add(path, month, values):
            for cell in _month_cells(month, cells):
                bucket = out[(path, *cell)]
                for k, v in values.items():
                    bucket[k] += v or 0

        for chunk in _chunks(paths):
            days = (
                WorkerDay.objects.filter(region_path__in=chunk, day__gte=lo, day__lt=hi)
                .annotate(m=TruncMonth("day"))
                .values("region_path", "m")
                .annotate(**worker_day_sums())
            )
            for r in days:
                add(r["region_path"], _as_date(r["m"]), {
                    "fw.patrol.worker_days": r["n"], "fw.patrol.days_met": r["met"], "fw.patrol.seconds": r["seconds"],
                    "fw.visits": r["visits"], "fw.reports": r["reports"], "fw.orders.due": r["due"], "fw.orders.on_time": r["on_time"],
                })  # fmt: skip
            met = Sum(Case(When(done__gte=F("required"), then=1), default=0, output_field=IntegerField()))
            ended = (
                DueItem.objects.filter(region_path__in=chunk, period_start__lte=today, period_end__lt=min(today, hi), period_end__gte=lo)
                .annotate(m=TruncMonth("period_end"))
                .values("region_path", "m")
                .annotate(n=Count("id"), met=met)
            )
            for r in ended:
                add(r["region_path"], _as_date(r["m"]), {"fw.coverage.required": r["n"], "fw.coverage.met": r["met"]})
            if lo <= today < hi:
                current = (
                    DueItem.objects.filter(region_path__in=chunk, period_start__lte=today, period_end__gte=today)
                    .values("region_path")
                    .annotate(n=Count("id"), met=met)
                )
                for r in current:
                    add(r["region_path"], today.replace(day=1), {"fw.coverage.required": r["n"], "fw.coverage.met": r["met"]})
            lo_at, hi_at = _midnight(lo), _midnight(hi)
            attends = (
                Attendance.objects.filter(region_path__in=chunk, arrived_at__gte=lo_at, arrived_at__lt=hi_at)
                .annotate(m=TruncMonth("arrived_at"))
                .values("region_path", "m")
                .annotate(n=Count("id"), s=Sum("seconds"))
            )
            for r in attends:
                add(r["region_path"], _as_date(r["m"]), {"fw.attend.count": r["n"], "fw.attend.seconds": r["s"]})
            ratings = (
                WorkerRating.objects.filter(region_path__in=chunk, at__gte=lo_at, at__lt=hi_at)
                .annotate(m=TruncMonth("at"))
                .values("region_path", "m")
                .annotate(n=Count("id"), s=Sum("score"))
            )
            for r in ratings:
                add(r["region_path"], _as_date(r["m"]), {"fw.rating.count": r["n"], "fw.rating.sum": r["s"]})
    if ("day", today) in cells:
        for chunk in _chunks(paths):
            late = (
                DueItem.objects.filter(region_path__in=chunk, period_start__lte=today, period_end__gte=today, done__lt=F("required"), due_on__lt=today)
                .values("region_path")
                .annotate(n=Count("household_id", distinct=True))
            )
            for r in late:
                out[(r["region_path"], "day", today)][SNAPSHOT] += r["n"]
    return out


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def _chunks(items: list, size: int = 500):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _cell_q(cells) -> Q:
    q = Q()
    by_period = defaultdict(set)
    for p, s in cells:
        by_period[p].add(s)
    for p, starts in by_period.items():
        q |= Q(period=p, period_start__in=sorted(starts))
    return q


def recompute(paths, cells, today: dt.date | None = None) -> int:
    """Rebuild the fw.* cells of the units on `paths` and all their ancestors for `cells`
    ((period, start) pairs; ("day", today) is the overdue snapshot). Each unit = its own rows +
    its children's stored cells, computed from the deepest level up. Returns rows written."""
    today = today or timezone.localdate()
    cells = {c for c in cells if c[0] != "day" or c[1] == today}
    if not paths or not cells:
        return 0
    every = sorted({a for p in paths for a in ancestor_paths(p)})
    regions = {r.path: r for r in Region.objects.filter(path__in=every).only("pk", "path", "depth", "level")}
    own = _own(list(regions), cells, today)
    values: dict = {}  # (path, period, start) -> {indicator: value}
    indicators = [*INDICATORS, SNAPSHOT]
    cell_q = _cell_q(cells)
    step = Region.steplen
    for depth in sorted({r.depth for r in regions.values()}, reverse=True):
        level_paths = [p for p, r in regions.items() if r.depth == depth]
        # Children already recomputed in this run are in `values`; the others are read.
        kids: dict = defaultdict(lambda: defaultdict(float))
        prefix = Q()
        # Many parents: read the whole level (one indexed range) rather than OR-ing prefixes.
        if len(level_paths) <= 50:
            for p in level_paths:
                prefix |= prefix_q("region_path", p)
        wanted = set(level_paths)
        fresh_children = {p for p, r in regions.items() if r.depth == depth + 1}
        stored = Rollup.objects.filter(prefix, cell_q, level=depth + 1, indicator__in=indicators).values_list(
            "region_path", "period", "period_start", "indicator", "value"
        )
        for path, period, start, ind, v in stored:
            if path in fresh_children or path[: depth * step] not in wanted:
                continue
            kids[(path[: depth * step], period, start)][ind] += v
        for (path, period, start), vals in values.items():
            if path in fresh_children:
                for ind, v in vals.items():
                    kids[(path[: depth * step], period, start)][ind] += v
        for p in level_paths:
            for period, start in cells:
                merged = defaultdict(float)
                for src in (own.get((p, period, start)), kids.get((p, period, start))):
                    for ind, v in (src or {}).items():
                        merged[ind] += v
                values[(p, period, start)] = merged
    rows = []
    for (path, period, start), vals in values.items():
        region = regions[path]
        for ind, v in vals.items():
            if v and (ind == SNAPSHOT) == (period == "day"):
                rows.append(Rollup(region_id=region.pk, region_path=path, level=region.depth, period=period, period_start=start, indicator=ind, value=round(v, 4)))
    with transaction.atomic():
        ids = [r.pk for r in regions.values()]
        for chunk in _chunks(ids):
            Rollup.objects.filter(cell_q, region_id__in=chunk, indicator__in=indicators).delete()
        Rollup.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _recent_cells(today: dt.date) -> set:
    """This and the previous month, quarter and year, and today's snapshot."""
    cells = cells_of(today) | {("day", today)}
    for p in PERIODS:
        cells.add((p, period_start(p, period_start(p, today) - dt.timedelta(days=1))))
    return cells


def _leaf_paths() -> set:
    paths = set(DueItem.objects.filter(period_end__gte=timezone.localdate() - dt.timedelta(days=400)).values_list("region_path", flat=True).distinct())
    for model in (WorkerDay, Attendance, WorkerRating):
        paths |= set(model.objects.values_list("region_path", flat=True).distinct())
    return paths


# ---------------------------------------------------------------- jobs


def refresh(now: dt.datetime | None = None) -> dict:
    """Rewrite the worker-days and cells touched since the watermark; the first run rebuilds."""
    now = now or timezone.now()
    today = _local(now)
    with transaction.atomic():
        mark, created = Watermark.objects.select_for_update().get_or_create(name=WATERMARK, defaults={"value": EPOCH})
        if created:
            stats = _rebuild(now)
        else:
            since = mark.value - OVERLAP
            pairs = touched_pairs(since, now)
            changed = write_days(pairs, now)
            # A patrol rule added or changed (from a day in the past, perhaps) re-judges the
            # worker-days of its area since then.
            for path, days in rule_flags(patrol_rule_areas(since)).items():
                changed[path] |= days
            write_months(changed)
            # Visits change coverage and the overdue snapshot of their grid now; late arrivals
            # and new ratings change their own cells.
            for path, at in Visit.objects.filter(created_at__gte=since).values_list("region_path", "visited_at"):
                changed[path] |= {_local(at), today}
            for path, at in Attendance.objects.filter(recorded_at__gte=since).values_list("region_path", "arrived_at"):
                changed[path].add(_local(at))
            for path, at in WorkerRating.objects.filter(at__gte=since).values_list("region_path", "at"):
                changed[path].add(_local(at))
            # Due items follow the registry: coverage and the overdue count of those grids now.
            grids, rules_changed = registry_paths(since)
            for path in grids:
                if len(path) >= GRID_DEPTH * Region.steplen:
                    changed[path[: GRID_DEPTH * Region.steplen]].add(today)
            by_cells: dict = defaultdict(set)
            for path, days in changed.items():
                cells = set().union(*(cells_of(d) for d in days))
                if today in days:
                    cells.add(("day", today))
                by_cells[frozenset(cells)].add(path)
            written = sum(recompute(paths, cells, today) for cells, paths in by_cells.items())
            if rules_changed:
                written += refresh_recent(today)
            stats = {"pairs": len(pairs), "grids": len(changed), "cells": written}
        mark.value = now
        mark.save(update_fields=["value"])
    return stats


def _rebuild(now: dt.datetime) -> dict:
    today = _local(now)
    WorkerDay.objects.all().delete()
    Rollup.objects.filter(indicator__startswith="fw.").delete()
    write_days(None, now)
    write_months(None)
    first = WorkerDay.objects.order_by("day").values_list("day", flat=True).first() or today
    for model, field in ((DueItem, "period_end"), (Attendance, "arrived_at"), (WorkerRating, "at")):
        v = model.objects.order_by(field).values_list(field, flat=True).first()
        if v is not None:
            first = min(first, _local(v) if isinstance(v, dt.datetime) else v)
    cells = {("day", today)}
    day = first.replace(day=1)
    while day <= today:
        cells |= cells_of(day)
        day = period_end("month", day)
    written = recompute(_leaf_paths(), cells, today)
    return {"rebuilt": True, "days": WorkerDay.objects.count(), "cells": written}


def rebuild(now: dt.datetime | None = None) -> dict:
    """Recompute every worker-day and fw.* cell from the raw rows."""
    now = now or timezone.now()
    with transaction.atomic():
        Watermark.objects.select_for_update().filter(name=WATERMARK).delete()
        return refresh(now)


def refresh_recent(today: dt.date | None = None) -> int:
    """The daily pass: coverage (due lists built, tags changed) and the overdue snapshot of this
    and the previous periods everywhere."""
    today = today or timezone.localdate()
    return recompute(_leaf_paths(), _recent_cells(today), today)


# ---------------------------------------------------------------- the board


# key: label. The ranking minimum is looked up as RankingRule "fw.<key>" (else "*").
RANKABLE = {
    "coverage": gettext_lazy("Visit coverage"),
    "patrol": gettext_lazy("Days meeting the patrol minimum"),
    "on_time": gettext_lazy("Orders handled on time"),
    "rating": gettext_lazy("Residents' evaluation"),
}
# Workers have no households of their own: by coverage they are ranked by patrol days.
WORKER_KEY = {"coverage": "patrol"}


def _div(a, b):
    return a / b if b else None


def kpis(v: dict) -> dict:
    """The KPIs of one cell (indicator → value; missing counts as 0)."""
    g = lambda k: v.get(k, 0) or 0  # noqa: E731
    out = {
        "required": int(g("fw.coverage.required")),
        "met": int(g("fw.coverage.met")),
        "coverage": _div(g("fw.coverage.met"), g("fw.coverage.required")),
        "visits": int(g("fw.visits")),
        "worker_days": int(g("fw.patrol.worker_days")),
        "patrol_hours": _div(g("fw.patrol.seconds") / 3600, g("fw.patrol.worker_days")),
        "patrol": _div(g("fw.patrol.days_met"), g("fw.patrol.worker_days")),
        "reports": int(g("fw.reports")),
        "due": int(g("fw.orders.due")),
        "on_time": _div(g("fw.orders.on_time"), g("fw.orders.due")),
        "attend_count": int(g("fw.attend.count")),
        "attend_minutes": _div(g("fw.attend.seconds") / 60, g("fw.attend.count")),
        "ratings": int(g("fw.rating.count")),
        "rating": _div(g("fw.rating.sum"), g("fw.rating.count")),
    }
    out["basis"] = {"coverage": out["required"], "patrol": out["worker_days"], "on_time": out["due"], "rating": out["ratings"]}
    return out


def _months_back(last: dt.date, n: int) -> list[dt.date]:
    out, d = [], last.replace(day=1)
    for _i in range(n):
        out.append(d)
        d = (d - dt.timedelta(days=1)).replace(day=1)
    return out[::-1]


def worker_rows(region: Region, sp: Span) -> list[dict]:
    """One row per grid worker with worker-days or ratings in the area and period, summed from
    the workers' month rows (WorkerMonth; a period is whole months)."""
    scope = prefix_q("region_path", region.path)
    cells: dict[int, dict] = {}
    grids: dict[int, set] = {}
    months = WorkerMonth.objects.filter(scope, month__gte=sp.start, month__lt=sp.end).values_list(
        "worker_id", "grid_id", "days", "days_met", "patrol_seconds", "visits", "reports", "orders_due", "orders_on_time")
    for w, g, n, met, seconds, visits, reports, due, on_time in months:
        c = cells.get(w)
        if c is None:
            c = cells[w] = dict.fromkeys(("fw.patrol.worker_days", "fw.patrol.days_met", "fw.patrol.seconds", "fw.visits",
                                          "fw.reports", "fw.orders.due", "fw.orders.on_time"), 0)
        c["fw.patrol.worker_days"] += n
        c["fw.patrol.days_met"] += met
        c["fw.patrol.seconds"] += seconds
        c["fw.visits"] += visits
        c["fw.reports"] += reports
        c["fw.orders.due"] += due
        c["fw.orders.on_time"] += on_time
        grids.setdefault(w, set()).add(g)
    tz = timezone.get_current_timezone()
    lo, hi = (dt.datetime.combine(d, dt.time(), tzinfo=tz) for d in (sp.start, sp.end))
    ratings = WorkerRating.objects.filter(scope, at__gte=lo, at__lt=hi).values("worker_id").annotate(n=Count("id"), s=Sum("score"))
    for r in ratings:
        c = cells.setdefault(r["worker_id"], {})
        c["fw.rating.count"], c["fw.rating.sum"] = r["n"], r["s"]
    names = dict(Region.objects.filter(pk__in={g for s in grids.values() for g in s}).values_list("pk", "name"))
    users = {u.pk: u for u in User.objects.filter(pk__in=list(cells)).only("pk", "username", "display_name")}
    rows = []
    for w, c in cells.items():
        user = users.get(w)
        if user is None:
            continue
        rows.append({"user": user, "name": user.display_name or user.username, "grids": "、".join(sorted(names[g] for g in grids.get(w, ()))), "k": kpis(c)})
    rows.sort(key=lambda r: r["name"])
    return rows


def _extend(b, user) -> None:
    """What the field-work board adds to the one board (insights): the overdue households on the
    period's last day (or today), a year of monthly coverage and patrol figures, and the ranking
    of the area's grid workers."""
    region, sp = b.region, b.span
    today = timezone.localdate()
    on = min(today, sp.last_day)
    overdue = Rollup.objects.filter(region=region, period="day", period_start=on, indicator="fw.overdue").values_list("value", flat=True).first()
    months = _months_back(min(sp.last_day, today), 12)
    trend_rows = Rollup.objects.filter(
        region=region, period="month", period_start__in=months, indicator__in=["fw.coverage.required", "fw.coverage.met", "fw.patrol.worker_days", "fw.patrol.days_met", "fw.visits"]
    ).values_list("period_start", "indicator", "value")
    by_month: dict = {}
    for d, ind, v in trend_rows:
        by_month.setdefault(d, {})[ind] = v
    ks = [kpis(by_month.get(m, {})) for m in months]
    worker_key = WORKER_KEY.get(b.rank_by, b.rank_by)
    worker_minimum = min_orders(f"fw.worker.{worker_key}", sp.last_day)
    workers_ranked, workers_unranked = rank(worker_rows(region, sp), worker_key, worker_minimum, lambda u: u["name"])
    b.extra.update(
        overdue=int(overdue or 0),
        overdue_on=on,
        trend={
            "labels": [f"{m.year % 100:02d}年{m.month}月" for m in months],
            "coverage": [round(k["coverage"] * 100, 1) if k["coverage"] is not None else None for k in ks],
            "patrol": [round(k["patrol"] * 100, 1) if k["patrol"] is not None else None for k in ks],
            "visits": [k["visits"] for k in ks],
        },
        worker_key=worker_key,
        worker_minimum=worker_minimum,
        workers_ranked=workers_ranked,
        workers_unranked=workers_unranked,
    )


BOARD = BoardSpec(
    key="fw",
    prefix="fw.",
    kpis=kpis,
    rankable=RANKABLE,
    default_rank="coverage",
    template="fieldwork/compliance/dashboard.html",
    minimum_indicator=lambda key: f"fw.{key}",
    extend=_extend,
)
register(BOARD)


def board(user, region: Region, sp: Span, rank_by: str = "coverage") -> Board:
    """The compliance board of a place and period (the one board builder, insights.access)."""
    return build(BOARD, user, region, sp, rank_by)
