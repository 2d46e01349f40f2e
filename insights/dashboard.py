"""What a dashboard shows for one place and period, read from Rollup rows only (a fixed
handful of queries whatever the number of orders). Shared by the page and the Excel export."""

import datetime as dt
from dataclasses import dataclass, field

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import assignments
from regions.models import Region
from workorders.access import AREA_ROLES
from workorders.models import Kind

from .kpis import ASCENDING, RANKABLE, STAGE_LABELS, STAGES, kpis
from .models import RankingRule, Rollup

PERIOD_LABELS = {"month": _("Month"), "quarter": _("Quarter"), "year": _("Year")}
KIND_LABELS = dict(Kind.choices)


def area_paths(user) -> list[str]:
    """The subtrees whose figures the user sees: staff with an area (not department handlers,
    whose figures would be their department's, nor residents)."""
    paths = sorted({p for r, p, _i in assignments(user) if r in AREA_ROLES})
    return [p for i, p in enumerate(paths) if not any(p.startswith(q) for q in paths[:i])]


def _regions():
    """Regions without their boundary GeoJSON (a dashboard shows names, never the shapes)."""
    return Region.objects.defer("boundary")


def place_for(user, region_id=None) -> Region:
    """The unit asked for if it lies in the user's area, else 404; without an id, the widest
    unit of the user's area."""
    paths = area_paths(user)
    if not paths:
        raise Http404
    if region_id is None:
        rows = sorted((p, i) for r, p, i in assignments(user) if r in AREA_ROLES)
        return _regions().get(pk=rows[0][1])
    try:
        region = _regions().get(pk=int(region_id))
    except (Region.DoesNotExist, ValueError, TypeError):
        raise Http404
    if not any(region.path.startswith(p) for p in paths):
        raise Http404
    return region


@dataclass
class Span:
    period: str  # month, quarter or year
    start: dt.date
    end: dt.date  # exclusive

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.period == "year":
            return f"{self.start.year}年"
        if self.period == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start.year}年{self.start.month}月"

    @property
    def steps(self) -> list[dt.date]:
        """The trend's points: days of a month, months of a quarter or year."""
        out, d = [], self.start
        while d < self.end:
            out.append(d)
            d = d + dt.timedelta(days=1) if self.period == "month" else _add_months(d, 1)
        return out

    @property
    def step(self) -> str:
        return "day" if self.period == "month" else "month"


def _add_months(d: dt.date, n: int) -> dt.date:
    m = d.month - 1 + n
    return dt.date(d.year + m // 12, m % 12 + 1, 1)


def span(period: str | None, at: str | None) -> tuple[Span, str | None]:
    """The period asked for (month / quarter / year around the month `at`, YYYY-MM); bad input
    falls back to this month with a message."""
    error = None
    today = timezone.localdate()
    month = dt.date(today.year, today.month, 1)
    if at:
        try:
            y, m = (int(x) for x in at.split("-"))
            month = dt.date(y, m, 1)
            if not 2000 <= y <= today.year + 1:
                raise ValueError
        except (ValueError, TypeError):
            month = dt.date(today.year, today.month, 1)
            error = _("Choose a month such as 2026-03.")
    if period not in PERIOD_LABELS:
        if period:
            error = _("Choose a month, a quarter or a year.")
        period = "month"
    if period == "month":
        return Span("month", month, _add_months(month, 1)), error
    if period == "quarter":
        start = dt.date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
        return Span("quarter", start, _add_months(start, 3)), error
    return Span("year", dt.date(month.year, 1, 1), dt.date(month.year + 1, 1, 1)), error


def min_orders(indicator: str, on: dt.date) -> int:
    """The ranking minimum in force on `on` (a rule for the indicator beats '*')."""
    rules = RankingRule.objects.filter(indicator__in=[indicator, "*"], valid_from__lte=on).order_by("-valid_from")
    best = {}
    for r in rules:
        best.setdefault(r.indicator, r.min_orders)
    return best.get(indicator, best.get("*", 0))


@dataclass
class Board:
    region: Region
    span: Span
    crumbs: list
    figures: dict
    snapshot: dict
    trend: dict
    kinds: list
    stages: list
    rank_by: str
    minimum: int
    ranked: list = field(default_factory=list)
    unranked: list = field(default_factory=list)
    child_level: str = ""


def board(user, region: Region, sp: Span, rank_by: str = "on_time_rate") -> Board:
    if rank_by not in RANKABLE:
        rank_by = "on_time_rate"
    paths = area_paths(user)
    # region.ancestors_and_self(), without the boundaries.
    above = [region.path[: i * Region.steplen] for i in range(1, region.depth)]
    crumbs = [r for r in [*_regions().filter(path__in=above).order_by("depth"), region] if any(r.path.startswith(p) for p in paths)]
    mine = dict(Rollup.objects.filter(region=region, period=sp.period, period_start=sp.start).values_list("indicator", "value"))
    figures = kpis(mine)

    today = timezone.localdate()
    snap = dict(
        Rollup.objects.filter(region=region, period="day", period_start=today, indicator__in=["wo.open", "wo.overdue_open"]).values_list(
            "indicator", "value"
        )
    )
    snapshot = {"open": int(snap.get("wo.open", 0)), "overdue": int(snap.get("wo.overdue_open", 0)), "on": today}

    steps = sp.steps
    trend_rows = Rollup.objects.filter(
        region=region, period=sp.step, period_start__gte=sp.start, period_start__lt=sp.end, indicator__in=["wo.received", "wo.closed"]
    ).values_list("period_start", "indicator", "value")
    by_day = {(d, i): v for d, i, v in trend_rows}
    trend = {
        "labels": [f"{d.day}日" if sp.step == "day" else f"{d.month}月" for d in steps],
        "dates": [d.isoformat() for d in steps],
        # Days still to come are gaps, not zeros.
        "received": [int(by_day.get((d, "wo.received"), 0)) if d <= today else None for d in steps],
        "closed": [int(by_day.get((d, "wo.closed"), 0)) if d <= today else None for d in steps],
    }
    kinds = [{"key": k, "name": str(label), "value": int(mine.get(f"wo.received.{k}", 0))} for k, label in KIND_LABELS.items()]
    stages = [{"key": s, "name": str(STAGE_LABELS[s]), "hours": figures["stage_hours"][s]} for s in STAGES]

    b = Board(region, sp, crumbs, figures, snapshot, trend, kinds, stages, rank_by, min_orders(rank_by, sp.last_day))
    if region.depth < 5:
        children = list(_regions().filter(path__startswith=region.path, depth=region.depth + 1).order_by("code", "path"))
        cells: dict[int, dict] = {}
        # By id through the cell key: a path prefix would walk every row below a city.
        rows = Rollup.objects.filter(region_id__in=[c.pk for c in children], period=sp.period, period_start=sp.start)
        for rid, ind, v in rows.values_list("region_id", "indicator", "value"):
            cells.setdefault(rid, {})[ind] = v
        units = [{"region": c, "k": kpis(cells.get(c.pk, {}))} for c in children]
        ok = [u for u in units if u["k"]["basis"][rank_by] >= max(b.minimum, 1) and u["k"][rank_by] is not None]
        ok.sort(key=lambda u: (u["k"][rank_by] if rank_by in ASCENDING else -u["k"][rank_by], -u["k"]["basis"][rank_by], u["region"].code))
        prev, rank = None, 0
        for i, u in enumerate(ok, start=1):
            if u["k"][rank_by] != prev:
                rank, prev = i, u["k"][rank_by]
            u["rank"] = rank
        b.ranked = ok
        b.unranked = [u for u in units if u not in ok]
        b.child_level = children[0].get_level_display() if children else ""
    return b
