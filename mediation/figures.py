"""Mediation figures per place and period, rolled up the tree into insights Rollup rows, and
the mediation board read from them (insights' one board builder).

Indicators (numerators and denominators stored apart, divided when shown):

| indicator                 | counted in the period of   | what                                              |
| med.received              | the order's report         | cases received                                    |
| med.closed                | closing                    | cases closed (handled to the end, 结案)           |
| med.agreed                | closing                    | closed cases with an agreement                    |
| med.days_sum              | closing                    | days from received to closed, summed              |
| med.rated, med.rating_sum | closing                    | closed cases the reporter rated, and their stars  |
| med.agreements_due        | the agreement's deadline   | agreements whose deadline (last term) has passed  |
| med.agreements_performed  | the agreement's deadline   | of those, every term confirmed performed at a     |
|                           |                            | follow-up visit (the default visit when no terms) |

success rate = agreed / closed; performance rate = agreements_performed / agreements_due;
satisfaction = rating_sum / rated (stars); average days = days_sum / closed.

`recompute(paths, cells)` rebuilds the given (region path × period cell) figures from the
case tables in one transaction, replacing whatever rows were there: running it twice, or again
after a crash, leaves the same rows.
"""

import datetime as dt
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from insights import services as periods
from insights.access import BoardSpec, register
from insights.models import Period, Rollup
from insights.services import ancestor_paths, period_end, period_start, previous_start
from linli.db import prefix_q
from regions.models import Region
from workorders.models import Rating, Status

from .models import Case, FollowUp, FollowUpResult, Outcome

PERIODS = (Period.MONTH, Period.QUARTER, Period.YEAR)
INDICATORS = (
    "med.received",
    "med.closed",
    "med.agreed",
    "med.days_sum",
    "med.rated",
    "med.rating_sum",
    "med.agreements_due",
    "med.agreements_performed",
)


def cells_of(day: dt.date | None) -> set[tuple[str, dt.date]]:
    return periods.cells(day, PERIODS)


def _local(value) -> dt.date | None:
    return timezone.localdate(value) if value else None


def _facts(roots: list[str], lo: dt.date, hi: dt.date, today: dt.date):
    """One dict per case under `roots` with a date of interest in [lo, hi)."""
    tz = timezone.get_current_timezone()
    lo_at = dt.datetime.combine(lo, dt.time.min, tzinfo=tz)
    hi_at = dt.datetime.combine(hi, dt.time.min, tzinfo=tz)
    place = Q()
    for r in roots:
        place |= prefix_q("region_path", r)
    when = Q(order__reported_at__gte=lo_at, order__reported_at__lt=hi_at) | Q(order__closed_at__gte=lo_at, order__closed_at__lt=hi_at) | Q(
        performance_due__gte=lo, performance_due__lt=hi
    )
    rows = list(
        Case.objects.filter(place, when).values(
            "pk", "region_path", "outcome", "performance_due", "order_id", "order__status", "order__reported_at", "order__closed_at"
        )
    )
    ids = [r["pk"] for r in rows]
    ratings = dict(Rating.objects.filter(order_id__in=[r["order_id"] for r in rows]).values_list("order_id", "score"))
    # Per case: did every term's visit (or the default visit when there are no terms) confirm
    # performance?
    visits = defaultdict(list)
    for case_id, term_id, result in FollowUp.objects.filter(case_id__in=ids).values_list("case_id", "term_id", "result"):
        visits[case_id].append((term_id, result))
    for r in rows:
        r["received"] = _local(r["order__reported_at"])
        closed = r["order__status"] == Status.CLOSED and r["order__closed_at"] is not None
        r["closed"] = _local(r["order__closed_at"]) if closed else None
        r["days"] = (r["order__closed_at"] - r["order__reported_at"]).total_seconds() / 86400 if closed else 0.0
        r["score"] = ratings.get(r["order_id"]) if closed else None
        due = r["performance_due"]
        r["due"] = due if (due is not None and r["outcome"] == Outcome.AGREEMENT and due <= today) else None
        v = visits.get(r["pk"], [])
        term_visits = [res for term, res in v if term is not None]
        checked = term_visits if term_visits else [res for term, res in v if term is None][:1]
        r["performed"] = bool(checked) and all(res == FollowUpResult.PERFORMED for res in checked)
    return rows


def recompute(paths, cells, today: dt.date | None = None) -> int:
    """Rebuild the med.* rows of every (path, cell) given. Returns the rows written."""
    paths = set(paths)
    cells = set(cells)
    if not paths or not cells:
        return 0
    today = today or timezone.localdate()
    regions = {r.path: r for r in Region.objects.filter(path__in=paths).only("pk", "path", "depth", "level")}
    paths = set(regions)
    roots = sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths))
    lo = min(start for _p, start in cells)
    hi = max(period_end(p, start) for p, start in cells)
    sums: dict[tuple[str, str, dt.date], dict[str, float]] = defaultdict(lambda: dict.fromkeys(INDICATORS, 0.0))

    def add(row_path, day, values):
        if day is None:
            return
        for p in PERIODS:
            cell = (p, period_start(p, day))
            if cell not in cells:
                continue
            for anc in ancestor_paths(row_path):
                if anc in paths:
                    bucket = sums[(anc, *cell)]
                    for k, v in values.items():
                        bucket[k] += v

    for f in _facts(roots, lo, hi, today):
        add(f["region_path"], f["received"], {"med.received": 1})
        if f["closed"]:
            closed = {"med.closed": 1, "med.days_sum": f["days"]}
            if f["outcome"] == Outcome.AGREEMENT:
                closed["med.agreed"] = 1
            if f["score"] is not None:
                closed["med.rated"] = 1
                closed["med.rating_sum"] = f["score"]
            add(f["region_path"], f["closed"], closed)
        if f["due"]:
            add(f["region_path"], f["due"], {"med.agreements_due": 1, "med.agreements_performed": 1 if f["performed"] else 0})

    rows = []
    for (path, period, start), values in sums.items():
        region = regions[path]
        for indicator, value in values.items():
            rows.append(
                Rollup(
                    region_id=region.pk, region_path=path, level=region.level, period=period, period_start=start,
                    indicator=indicator, value=round(value, 4),
                )
            )
    for attempt in range(3):
        try:
            with transaction.atomic():
                stale = Q()
                for period, start in cells:
                    stale |= Q(period=period, period_start=start)
                Rollup.objects.filter(stale, region_id__in=[r.pk for r in regions.values()], indicator__startswith="med.").delete()
                Rollup.objects.bulk_create(rows, batch_size=1000)
            break
        except IntegrityError:  # a concurrent run wrote the same cells first; do it again
            if attempt == 2:
                raise
    return len(rows)


def refresh_case(case_id: int, today: dt.date | None = None) -> int:
    """The cells a case touches: its places up the tree × the periods of its dates."""
    case = Case.objects.filter(pk=case_id).select_related("order").first()
    if case is None:
        return 0
    order = case.order
    cells = cells_of(_local(order.reported_at)) | cells_of(_local(order.closed_at)) | cells_of(case.performance_due)
    return recompute(ancestor_paths(case.region_path), cells, today)


def refresh_recent(today: dt.date | None = None) -> int:
    """The daily pass: this and the previous month, quarter and year, everywhere there are
    cases (deadlines pass and ratings arrive without a case being touched)."""
    today = today or timezone.localdate()
    cells = set()
    for p in PERIODS:
        start = period_start(p, today)
        cells |= {(p, start), (p, previous_start(p, start))}
    return recompute(_case_paths(), cells, today)


def refresh_all(today: dt.date | None = None) -> int:
    """Every cell of every case (after an import, a demo build or a change of the rules)."""
    today = today or timezone.localdate()
    cells = set()
    for order__reported_at, order__closed_at, due in Case.objects.values_list("order__reported_at", "order__closed_at", "performance_due"):
        cells |= cells_of(_local(order__reported_at)) | cells_of(_local(order__closed_at)) | cells_of(due)
    return recompute(_case_paths(), cells, today)


def _case_paths() -> set[str]:
    paths = set()
    for p in Case.objects.values_list("region_path", flat=True).distinct():
        paths.update(ancestor_paths(p))
    return paths


# ---------------------------------------------------------------- the board (insights)


def _ratio(num, den, scale=100.0, digits=1):
    return round(num * scale / den, digits) if den else None


def kpis(values: dict) -> dict:
    """The figures of one cell (indicator → value; missing counts as 0), rates in percent."""
    def v(key):
        return values.get(key, 0.0)

    out = {
        "received": int(v("med.received")),
        "closed": int(v("med.closed")),
        "agreed": int(v("med.agreed")),
        "success": _ratio(v("med.agreed"), v("med.closed")),
        "due": int(v("med.agreements_due")),
        "performed": int(v("med.agreements_performed")),
        "performance": _ratio(v("med.agreements_performed"), v("med.agreements_due")),
        "rated": int(v("med.rated")),
        "satisfaction": _ratio(v("med.rating_sum"), v("med.rated"), 1.0, 2),
        "avg_days": _ratio(v("med.days_sum"), v("med.closed"), 1.0, 1),
    }
    out["basis"] = {"success": out["closed"], "performance": out["due"], "satisfaction": out["rated"]}
    return out


def period_label(period: str, start: dt.date) -> str:
    if period == Period.MONTH:
        return f"{start.year}-{start.month:02d}"
    if period == Period.QUARTER:
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def _extend(b, user) -> None:
    """The trend of the place's last twelve months (eight quarters, five years)."""
    from django.utils.translation import gettext

    period, start = b.span.period, b.span.start
    starts = [start]
    for _i in range({Period.MONTH: 11, Period.QUARTER: 7}.get(period, 4)):
        starts.append(previous_start(period, starts[-1]))
    starts.reverse()
    rows = Rollup.objects.filter(region=b.region, period=period, period_start__in=starts, indicator__in=["med.received", "med.closed", "med.agreed"])
    trend = {s: {} for s in starts}
    for s, ind, val in rows.values_list("period_start", "indicator", "value"):
        trend[s][ind] = val
    b.extra["chart"] = {
        "labels": [period_label(period, s) for s in starts],
        "series": [
            {"name": gettext("Cases received"), "data": [int(trend[s].get("med.received", 0)) for s in starts]},
            {"name": gettext("Cases closed"), "data": [int(trend[s].get("med.closed", 0)) for s in starts]},
            {"name": gettext("Cases with agreement"), "data": [int(trend[s].get("med.agreed", 0)) for s in starts]},
        ],
    }


BOARD = BoardSpec(
    key="med",
    prefix="med.",
    kpis=kpis,
    rankable={"success": _("Success rate"), "performance": _("Performance rate"), "satisfaction": _("Satisfaction")},
    default_rank="success",
    template="mediation/kpis.html",
    minimum_indicator=lambda key: f"med.{key}",
    extend=_extend,
)
register(BOARD)
