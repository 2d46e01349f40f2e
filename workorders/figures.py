"""Work-order figures per (region, period, indicator): the facts, the cells and their refresh.

How it works (DESIGN.md contract 5):

1. Every order has one fact row (OrderFact): its region and the ids of its city, district,
   street, community and grid (copied from its region path), the local days it counts on
   (received, closed, due) and its 0/1 contributions (closed on time, suspended, reworked,
   extended, settled in the grid / on the spot, rated, the rating) and stage seconds.
2. `refresh()` reads the orders changed since the watermark (WorkOrder.updated_at, minus a small
   overlap for transactions that committed late) and the open orders whose deadline passed since
   (they become "due" without being saved), builds their facts in one INSERT ... SELECT, drops
   those identical to the stored facts, and turns the rest into +1 (new) / -1 (replaced) rows.
3. One flat GROUP BY per (level, period, day role) over those rows gives the change of every
   cell they touch; the changes are added to the Rollup rows with one upsert. Only cells of
   changed orders are written, and the work is proportional to the changed orders, not to all.
4. Snapshots `wo.open` and `wo.overdue_open` (period "day", today) are recounted from the facts.
   A cell that falls back to 0 keeps its row (value 0 reads as nothing; deleting it cost more
   than the upsert); `rebuild()` writes no zero rows.
5. Facts, cells and the watermark are written in one transaction: a run that fails halfway
   leaves everything as before, and a second run finds identical facts and changes nothing.
   `rebuild()` (management command `rebuild_rollups`) empties facts and `wo.*` cells and runs the
   same code over every order; tests check that incremental refreshes equal a rebuild.

Indicators (all counts or integer sums, so cells add up exactly across levels):
- by the day reported: wo.received, wo.received.<kind> (voided and duplicate orders excluded)
- by the day closed: wo.closed, wo.reworked, wo.extended, wo.settled_in_grid,
  wo.settled_on_spot, wo.rated, wo.rating_sum, wo.stage.<file|dispatch|handle|verify>.sum
  (seconds) and .count (stage durations leave out orders settled on the spot)
- by the day of the deadline: wo.due (closed, or open with the deadline passed), wo.suspended
  (of those, suspended at some point), wo.closed_on_time (closed by the deadline, never suspended)
Day cells carry only wo.received and wo.closed (the trend line); months, quarters and years
carry everything. KPIs are divided when shown (kpis()): 按期结案率 = closed_on_time / (due - suspended), 结案率 =
closed / received, 返工率 = reworked / closed, 延期率 = extended / closed, satisfaction =
rating_sum / rated, 网格内解决率 = settled_in_grid / closed, average stage time = sum / count.

Timing a refresh (the bench calls refresh()):

    from django.db.models import F
    from django.utils import timezone
    WorkOrder.objects.filter(pk__in=ids).update(updated_at=timezone.now(), rework_count=F("rework_count") + 1)
    t = time.perf_counter(); stats = refresh(); print(time.perf_counter() - t, stats)

`refresh()` returns {"changed": facts replaced, "cells": cell changes applied, ...}.
"""

import datetime as dt
import re

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from insights.access import BoardSpec, register
from insights.models import Rollup, Watermark
from linli import paths
from linli.xlsx import StreamingWorkbook

from .models import ENDED_STATUSES, OPEN_STATUSES, CellDelta, FactDelta, FactStage, Kind, OrderFact, Stage

WATERMARK = "wo"
# The tables of the refresh, by name (the statements below are written in SQL).
FACTS, STAGED, DELTAS, CELLS, ROLLUP = (m._meta.db_table for m in (OrderFact, FactStage, FactDelta, CellDelta, Rollup))
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LEVEL_COLUMNS = {1: "city_id", 2: "district_id", 3: "street_id", 4: "community_id", 5: "grid_id"}
PERIODS = ("day", "month", "quarter", "year")

FACT_COLUMNS = (
    "region_id", "city_id", "district_id", "street_id", "community_id", "grid_id", "kind",
    "received_on", "closed_on", "due_on", "on_time", "suspended", "reworked", "extended", "in_grid",
    "on_spot", "rated", "rating", "file_s", "dispatch_s", "handle_s", "verify_s", "is_open", "open_deadline",
)
STAGES = ("file", "dispatch", "handle", "verify")
DAY_ROLES = ("received_on", "closed_on")
KINDS = tuple(Kind.values)

# (indicator, CellDelta column) — what each cell holds.
INDICATORS = (
    [("wo.received", "received")]
    + [(f"wo.received.{k}", f"received_{k}") for k in KINDS]
    + [
        ("wo.closed", "closed"),
        ("wo.reworked", "reworked"),
        ("wo.extended", "extended"),
        ("wo.settled_in_grid", "in_grid"),
        ("wo.settled_on_spot", "on_spot"),
        ("wo.rated", "rated"),
        ("wo.rating_sum", "rating_sum"),
    ]
    + [(f"wo.stage.{s}.{x}", f"{s}_{c}") for s in STAGES for x, c in (("sum", "sum"), ("count", "n"))]
    + [("wo.due", "due"), ("wo.suspended", "suspended"), ("wo.closed_on_time", "on_time")]
)

# The three days an order counts on, and the cell columns each fills from the +1/-1 rows.
ROLES = {
    "received_on": [("received", "SUM(sign)")] + [(f"received_{k}", f"SUM(CASE WHEN kind = '{k}' THEN sign ELSE 0 END)") for k in KINDS],
    "closed_on": [
        ("closed", "SUM(sign)"),
        ("reworked", "SUM(sign * reworked)"),
        ("extended", "SUM(sign * extended)"),
        ("in_grid", "SUM(sign * in_grid)"),
        ("on_spot", "SUM(sign * on_spot)"),
        ("rated", "SUM(sign * rated)"),
        ("rating_sum", "SUM(sign * rating)"),
    ]
    + [c for s in STAGES for c in ((f"{s}_sum", f"SUM(sign * COALESCE({s}_s, 0))"), (f"{s}_n", f"SUM(CASE WHEN {s}_s IS NOT NULL THEN sign ELSE 0 END)"))],
    "due_on": [("due", "SUM(sign)"), ("suspended", "SUM(sign * suspended)"), ("on_time", "SUM(sign * on_time)")],
}


class _Sql:
    """The few expressions that differ between SQLite and PostgreSQL."""

    def __init__(self):
        self.pg = connection.vendor == "postgresql"
        tz = settings.TIME_ZONE
        if not re.fullmatch(r"[A-Za-z0-9_/+-]+", tz):
            raise ValueError(tz)
        self.tz = tz
        # SQLite keeps UTC text; the zone's current offset turns it into a local day (Asia/Shanghai
        # has no daylight saving time).
        off = timezone.now().astimezone(timezone.get_default_timezone()).utcoffset() or dt.timedelta()
        self.offset = int(off.total_seconds() // 60)

    def day(self, col: str) -> str:
        if self.pg:
            return f"(({col}) AT TIME ZONE '{self.tz}')::date"
        return f"date({col}, '{self.offset:+d} minutes')"

    def seconds(self, start: str, end: str) -> str:
        if self.pg:
            return f"ROUND(EXTRACT(EPOCH FROM ({end}) - ({start})))::bigint"
        return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400) AS INTEGER)"

    def bucket(self, period: str, col: str) -> str:
        if period == "day":
            return col
        if self.pg:
            return f"date_trunc('{period}', {col})::date"
        if period == "month":
            return f"strftime('%Y-%m-01', {col})"
        if period == "year":
            return f"strftime('%Y-01-01', {col})"
        return (
            f"substr({col}, 1, 4) || CASE WHEN substr({col}, 6, 2) <= '03' THEN '-01-01' WHEN substr({col}, 6, 2) <= '06' "
            f"THEN '-04-01' WHEN substr({col}, 6, 2) <= '09' THEN '-07-01' ELSE '-10-01' END"
        )

    def same(self, a: str, b: str) -> str:
        return f"{a} IS NOT DISTINCT FROM {b}" if self.pg else f"{a} IS {b}"

    def true(self, col: str) -> str:
        return col if self.pg else f"({col} <> 0)"


def _in(values) -> str:
    return ", ".join(f"'{getattr(v, 'value', v)}'" for v in values)


def _execute(cur, sql: str, params=None) -> int:
    cur.execute(sql, params) if params else cur.execute(sql)
    return cur.rowcount


def _stage_sql(q: _Sql) -> str:
    steplen = paths.STEP
    ended = _in(ENDED_STATUSES[1:])  # voided, duplicate
    joins = "\n".join(
        f"LEFT JOIN regions_region r{k} ON r{k}.path = substr(w.region_path, 1, {k * steplen}) AND r{k}.depth = {k}" for k in range(1, 6)
    )
    closed = "w.status = 'closed'"
    timed = f"{closed} AND NOT {q.true('w.settled_on_spot')}"
    stage_s = {
        "file": ("w.reported_at", "w.filed_at"),
        "dispatch": ("w.filed_at", "w.dispatched_at"),
        "handle": ("w.dispatched_at", "w.handled_at"),
        "verify": ("w.handled_at", "w.verified_at"),
    }
    durations = ",\n  ".join(
        f"CASE WHEN {timed} AND {a} IS NOT NULL AND {b} IS NOT NULL THEN {q.seconds(a, b)} END" for a, b in stage_s.values()
    )
    flag = lambda cond: f"CASE WHEN {cond} THEN 1 ELSE 0 END"  # noqa: E731
    return f"""
INSERT INTO {STAGED} (order_id, {", ".join(FACT_COLUMNS)})
SELECT w.id, w.region_id, r1.id, r2.id, r3.id, r4.id, r5.id, w.kind,
  CASE WHEN w.status NOT IN ({ended}) THEN {q.day("w.reported_at")} END,
  CASE WHEN {closed} THEN {q.day("w.closed_at")} END,
  CASE WHEN w.status NOT IN ({ended}) AND w.deadline IS NOT NULL AND ({closed} OR w.deadline <= %s) THEN {q.day("w.deadline")} END,
  {flag(f"{closed} AND w.deadline IS NOT NULL AND w.closed_at <= w.deadline AND NOT {q.true('w.was_suspended')}")},
  {flag(q.true("w.was_suspended"))},
  {flag(f"{closed} AND w.rework_count > 0")},
  {flag(f"{closed} AND w.extension_count > 0")},
  {flag(f"{closed} AND {q.true('w.settled_in_grid')}")},
  {flag(f"{closed} AND {q.true('w.settled_on_spot')}")},
  {flag(f"{closed} AND rt.score IS NOT NULL")},
  CASE WHEN {closed} THEN COALESCE(rt.score, 0) ELSE 0 END,
  {durations},
  {flag(f"w.status IN ({_in(OPEN_STATUSES)})")},
  CASE WHEN w.status IN ({_in(OPEN_STATUSES)}) THEN w.deadline END
FROM workorders_workorder w
{joins}
LEFT JOIN workorders_rating rt ON rt.order_id = w.id
WHERE w.id IN (
  SELECT id FROM workorders_workorder WHERE updated_at >= %s
  UNION
  SELECT order_id FROM {FACTS} WHERE is_open = 1 AND open_deadline >= %s AND open_deadline <= %s
)"""


def _role_columns(role: str, period: str) -> list[tuple[str, str]]:
    """The cell columns a role fills for a period. Day cells carry only the trend (received,
    closed): a grid-day holds about one order, and all indicators there would multiply the
    table by twenty for figures nobody reads by the day (measured: bench in the docstring)."""
    cols = ROLES[role]
    if period == "day":
        return cols[:1] if role in DAY_ROLES else []
    return cols


def _cells_sql(q: _Sql, level: int, period: str, role: str) -> str | None:
    cols = _role_columns(role, period)
    if not cols:
        return None
    col = LEVEL_COLUMNS[level]
    bucket = q.bucket(period, role)
    targets = ", ".join(c for c, _e in cols)
    exprs = ", ".join(e for _c, e in cols)
    return f"""
INSERT INTO {CELLS} (level, region_id, period, period_start, {targets})
SELECT {level}, {col}, '{period}', {bucket}, {exprs}
FROM {DELTAS}
WHERE {col} IS NOT NULL AND {role} IS NOT NULL
GROUP BY {col}, {bucket}"""


def _apply_sql(role: str) -> str:
    """Add one role's cell changes to the Rollup rows (one row per cell and indicator)."""
    mine = {c for c, _e in ROLES[role]}
    pairs = [(name, c) for name, c in INDICATORS if c in mine]
    names = ", ".join(f"('{name}')" for name, _c in pairs)
    case = "CASE i.column1 " + " ".join(f"WHEN '{name}' THEN c.{c}" for name, c in pairs) + " END"
    return f"""
INSERT INTO {ROLLUP} (region_id, region_path, level, period, period_start, indicator, value, updated_at)
SELECT region_id, path, level, period, period_start, indicator, v, %s FROM (
  SELECT c.region_id, r.path, c.level, c.period, c.period_start, i.column1 AS indicator, {case} AS v
  FROM {CELLS} c
  JOIN regions_region r ON r.id = c.region_id
  CROSS JOIN (VALUES {names}) AS i
) x
WHERE v <> 0
ORDER BY region_id, period, period_start, indicator
ON CONFLICT (region_id, period, period_start, indicator)
DO UPDATE SET value = {ROLLUP}.value + excluded.value, updated_at = excluded.updated_at"""


def _snapshot_sql(level: int) -> str:
    col = LEVEL_COLUMNS[level]
    return f"""
INSERT INTO {ROLLUP} (region_id, region_path, level, period, period_start, indicator, value, updated_at)
SELECT a.id, r.path, {level}, 'day', %s, i.column1, CASE i.column1 WHEN 'wo.open' THEN a.n ELSE a.late END, %s
FROM (
  SELECT {col} AS id, COUNT(*) AS n, SUM(CASE WHEN open_deadline < %s THEN 1 ELSE 0 END) AS late
  FROM {FACTS} WHERE is_open = 1 AND {col} IS NOT NULL GROUP BY {col}
) a
JOIN regions_region r ON r.id = a.id
CROSS JOIN (VALUES ('wo.open'), ('wo.overdue_open')) AS i
WHERE (CASE i.column1 WHEN 'wo.open' THEN a.n ELSE a.late END) > 0"""


def _same_sql(q: _Sql) -> str:
    cond = " AND ".join(q.same(f"f.{c}", f"{STAGED}.{c}") for c in FACT_COLUMNS)
    return f"DELETE FROM {STAGED} WHERE EXISTS (SELECT 1 FROM {FACTS} f WHERE f.order_id = {STAGED}.order_id AND {cond})"


def _clear(cur, table: str):
    # TRUNCATE leaves no dead rows behind on PostgreSQL; runs are serialised by the watermark lock.
    cur.execute(f"TRUNCATE {table}" if connection.vendor == "postgresql" else f"DELETE FROM {table}")


def _overlap() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "INSIGHTS_OVERLAP_SECONDS", 120))


def refresh(now=None, _fail_after: str | None = None) -> dict:
    """Bring facts and `wo.*` cells up to date with the orders; returns what it did.
    `_fail_after` names a step after which to raise (tests simulate a crash with it)."""
    now = now or timezone.now()
    q = _Sql()
    ops = connection.ops
    adapt = ops.adapt_datetimefield_value
    stats = {"read": 0, "changed": 0, "cells": 0}
    cols = ", ".join(FACT_COLUMNS)
    with transaction.atomic():
        mark, _created = Watermark.objects.select_for_update().get_or_create(name=WATERMARK, defaults={"value": EPOCH})
        since = mark.value - _overlap()
        with connection.cursor() as cur:
            if q.pg:
                cur.execute("SET LOCAL work_mem = '64MB'")
            for table in (STAGED, DELTAS, CELLS):
                _clear(cur, table)
            stats["read"] = _execute(cur, _stage_sql(q), [adapt(now), adapt(since), adapt(since), adapt(now)])
            _execute(cur, _same_sql(q))
            cur.execute(f"INSERT INTO {DELTAS} (order_id, sign, {cols}) SELECT order_id, 1, {cols} FROM {STAGED}")
            stats["changed"] = cur.rowcount
            cur.execute(
                f"INSERT INTO {DELTAS} (order_id, sign, {cols}) SELECT order_id, -1, {cols} FROM {FACTS} "
                f"WHERE order_id IN (SELECT order_id FROM {STAGED})"
            )
            cur.execute(f"DELETE FROM {FACTS} WHERE order_id IN (SELECT order_id FROM {STAGED})")
            cur.execute(f"INSERT INTO {FACTS} (order_id, {cols}) SELECT order_id, {cols} FROM {STAGED}")
            if _fail_after == "facts":
                raise RuntimeError("simulated crash after the facts")
            if stats["changed"]:
                for role in ROLES:
                    for level in LEVEL_COLUMNS:
                        for period in PERIODS:
                            sql = _cells_sql(q, level, period, role)
                            if sql:
                                cur.execute(sql)
                    stats["cells"] += _execute(cur, _apply_sql(role), [adapt(now)])
                    _clear(cur, CELLS)
            if _fail_after == "cells":
                raise RuntimeError("simulated crash after the cells")
            today = ops.adapt_datefield_value(timezone.localdate(now))
            # The open and overdue counts change only with the facts (an order whose deadline
            # passes is re-read above), so an idle run leaves today's snapshot as it is.
            cur.execute(f"SELECT 1 FROM {ROLLUP} WHERE period = 'day' AND period_start = %s AND indicator = 'wo.open' LIMIT 1", [today])
            if stats["changed"] or cur.fetchone() is None:
                cur.execute(
                    f"DELETE FROM {ROLLUP} WHERE period = 'day' AND period_start = %s AND indicator IN ('wo.open', 'wo.overdue_open')",
                    [today],
                )
                for level in LEVEL_COLUMNS:
                    cur.execute(_snapshot_sql(level), [today, adapt(now), adapt(now)])
            for table in (STAGED, DELTAS):
                _clear(cur, table)
        mark.value = now
        mark.save(update_fields=["value"])
    return stats


def rebuild() -> dict:
    """Recompute every fact and `wo.*` cell from the orders."""
    with transaction.atomic():
        Watermark.objects.select_for_update().filter(name=WATERMARK).delete()
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {FACTS}")
            cur.execute(f"DELETE FROM {ROLLUP} WHERE indicator LIKE 'wo.%'")
        return refresh()


# ---------------------------------------------------------------- KPIs: divided when shown
# Ratios are divided here, from the cells of one place and period (DOMAIN.md), so the stored
# numerators and denominators add up across the tree.

STAGE_LABELS = dict(Stage.choices)

RANKABLE = {
    "on_time_rate": _("On-time closure rate"),
    "closure_rate": _("Closure rate"),
    "rework_rate": _("Rework rate"),
    "extension_rate": _("Extension rate"),
    "satisfaction": _("Satisfaction"),
    "in_grid_rate": _("Settled in the grid"),
}
# Lower is better for these.
ASCENDING = {"rework_rate", "extension_rate"}


def _div(a, b):
    return a / b if b else None


def kpis(v: dict) -> dict:
    """`v` maps indicator → value for one cell; missing indicators count as 0."""
    def g(k):
        return v.get(k, 0) or 0

    due = g("wo.due") - g("wo.suspended")
    out = {
        "received": int(g("wo.received")),
        "closed": int(g("wo.closed")),
        "due": int(due),
        "on_time_rate": _div(g("wo.closed_on_time"), due),
        "closure_rate": _div(g("wo.closed"), g("wo.received")),
        "rework_rate": _div(g("wo.reworked"), g("wo.closed")),
        "extension_rate": _div(g("wo.extended"), g("wo.closed")),
        "satisfaction": _div(g("wo.rating_sum"), g("wo.rated")),
        "in_grid_rate": _div(g("wo.settled_in_grid"), g("wo.closed")),
        "rated": int(g("wo.rated")),
        "open": int(g("wo.open")),
        "overdue_open": int(g("wo.overdue_open")),
        "stage_hours": {s: _div(g(f"wo.stage.{s}.sum") / 3600, g(f"wo.stage.{s}.count")) for s in STAGES},
    }
    # The number each KPI is taken over: the ranking minimum applies to it.
    out["basis"] = {
        "on_time_rate": out["due"],
        "closure_rate": out["received"],
        "rework_rate": out["closed"],
        "extension_rate": out["closed"],
        "satisfaction": out["rated"],
        "in_grid_rate": out["closed"],
    }
    return out


# ---------------------------------------------------------------- the board (insights)

KIND_LABELS = dict(Kind.choices)


def _extend(b, user) -> None:
    """Today's open and overdue orders, the trend of received and closed orders, orders by kind
    and the average time of each stage."""
    sp, region = b.span, b.region
    today = timezone.localdate()
    snap = dict(
        Rollup.objects.filter(region=region, period="day", period_start=today, indicator__in=["wo.open", "wo.overdue_open"]).values_list(
            "indicator", "value"
        )
    )
    trend_rows = Rollup.objects.filter(
        region=region, period=sp.step, period_start__gte=sp.start, period_start__lt=sp.end, indicator__in=["wo.received", "wo.closed"]
    ).values_list("period_start", "indicator", "value")
    by_day = {(d, i): v for d, i, v in trend_rows}
    steps = sp.steps
    mine = b.values
    b.extra.update(
        snapshot={"open": int(snap.get("wo.open", 0)), "overdue": int(snap.get("wo.overdue_open", 0)), "on": today},
        trend={
            "labels": [f"{d.day}日" if sp.step == "day" else f"{d.month}月" for d in steps],
            "dates": [d.isoformat() for d in steps],
            # Days still to come are gaps, not zeros.
            "received": [int(by_day.get((d, "wo.received"), 0)) if d <= today else None for d in steps],
            "closed": [int(by_day.get((d, "wo.closed"), 0)) if d <= today else None for d in steps],
        },
        kinds=[{"key": k, "name": str(label), "value": int(mine.get(f"wo.received.{k}", 0))} for k, label in KIND_LABELS.items()],
        stages=[{"key": s, "name": str(STAGE_LABELS[s]), "hours": b.figures["stage_hours"][s]} for s in STAGES],
    )


def _context(b) -> dict:
    return {
        "charts": {
            "trend": b.trend,
            "kinds": b.kinds,
            "stages": b.stages,
            "labels": {"received": gettext("Orders received"), "closed": gettext("Orders closed"), "hours": gettext("hours"), "empty": gettext("No orders in this period")},
        },
    }


def _pct(v):
    return round(v * 100, 1) if v is not None else None


def _value(key, v):
    if v is None:
        return None
    return round(v, 2) if key == "satisfaction" else _pct(v)


def write_board(b, path: str) -> str:
    """Excel export of the board: its figures, the ranking of the units below and the trend."""
    f = b.figures
    wb = StreamingWorkbook(path)
    sheet = wb.add_sheet(gettext("Figures"), [gettext("Indicator"), gettext("Value"), gettext("Unit of measure")], [28, 14, 10])
    sheet.write_row([gettext("Figures for"), b.region.name, ""])
    sheet.write_row([gettext("Period"), b.span.label, ""])
    sheet.write_row([gettext("Orders received"), f["received"], gettext("orders")])
    sheet.write_row([gettext("Orders closed"), f["closed"], gettext("orders")])
    sheet.write_row([gettext("Due (less suspended)"), f["due"], gettext("orders")])
    for key, label in RANKABLE.items():
        sheet.write_row([str(label), _value(key, f[key]), gettext("points") if key == "satisfaction" else "%"])
    for s in b.stages:
        sheet.write_row([gettext("Average time: %(stage)s") % {"stage": s["name"]}, round(s["hours"], 2) if s["hours"] is not None else None, gettext("hours")])
    sheet.write_row([gettext("Open now"), b.snapshot["open"], gettext("orders")])
    sheet.write_row([gettext("Overdue now"), b.snapshot["overdue"], gettext("orders")])

    headers = [gettext("Rank"), gettext("Unit below"), gettext("Orders received"), gettext("Orders closed")] + [str(label) for label in RANKABLE.values()] + [gettext("Note")]
    sheet = wb.add_sheet(gettext("Ranking"), headers, [8, 20, 10, 10] + [14] * len(RANKABLE) + [30])
    for u in b.ranked + b.unranked:
        k = u["k"]
        note = "" if "rank" in u else gettext("Not ranked (fewer than %(n)s orders)") % {"n": b.minimum}
        sheet.write_row([u.get("rank"), u["region"].name, k["received"], k["closed"]] + [_value(key, k[key]) for key in RANKABLE] + [note])

    sheet = wb.add_sheet(gettext("Trend"), [gettext("Date"), gettext("Orders received"), gettext("Orders closed")], [14, 10, 10])
    for d, r, c in zip(b.trend["dates"], b.trend["received"], b.trend["closed"], strict=True):
        sheet.write_row([d, r, c])
    wb.close()
    return path


BOARD = BoardSpec(
    key="wo",
    prefix="wo.",
    kpis=kpis,
    rankable=RANKABLE,
    default_rank="on_time_rate",
    template="workorders/figures.html",
    ascending=frozenset(ASCENDING),
    extend=_extend,
    context=_context,
    export=write_board,
    export_name="{region}-{span}-工单指标.xlsx",
)
register(BOARD)
