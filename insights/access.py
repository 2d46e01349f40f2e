"""The figures a user may see, and the board every dashboard is made of.

A board shows one place and period from Rollup rows only (a fixed handful of queries whatever
the number of rows behind the figures): the place's own figures, the units directly below it
ranked (a unit needs the ranking minimum of RankingRule before it is ranked), and whatever the
app that feeds the board adds (trends, snapshots, other rankings). Each app registers its board
(`register(BoardSpec(...))`, from its figures.py); the pages and the Excel export read it here.
Staff with an area see the figures of their area; any other place answers 404.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import AREA_ROLES, assignments
from regions.models import Region

from .models import RankingRule, Rollup

PERIOD_LABELS = {"month": _("Month"), "quarter": _("Quarter"), "year": _("Year")}


def area_paths(user) -> list[str]:
    """The subtrees whose figures the user sees: staff with an area (not department handlers,
    whose figures would be their department's, nor residents)."""
    if not user.has_perm("insights.view"):
        return []
    paths = sorted({p for r, p, _i in assignments(user) if r in AREA_ROLES})
    return [p for i, p in enumerate(paths) if not any(p.startswith(q) for q in paths[:i])]


def _regions():
    """Regions without their boundary GeoJSON (a board shows names, never the shapes)."""
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
            d = d + dt.timedelta(days=1) if self.period == "month" else add_months(d, 1)
        return out

    @property
    def step(self) -> str:
        return "day" if self.period == "month" else "month"


def add_months(d: dt.date, n: int) -> dt.date:
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
        return Span("month", month, add_months(month, 1)), error
    if period == "quarter":
        start = dt.date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
        return Span("quarter", start, add_months(start, 3)), error
    return Span("year", dt.date(month.year, 1, 1), dt.date(month.year + 1, 1, 1)), error


def min_orders(indicator: str, on: dt.date) -> int:
    """The ranking minimum in force on `on` (a rule for the indicator beats '*')."""
    rules = RankingRule.objects.filter(indicator__in=[indicator, "*"], valid_from__lte=on).order_by("-valid_from")
    best = {}
    for r in rules:
        best.setdefault(r.indicator, r.min_orders)
    return best.get(indicator, best.get("*", 0))


# ---------------------------------------------------------------- boards


@dataclass(frozen=True)
class BoardSpec:
    """What an app's board is: the figures of one cell (`kpis(values) -> dict` with a "basis"
    map: the count each rankable figure is taken over), what it may be ranked by, and how its
    page looks (`template`, `context(board)`), is extended (`extend(board, user)`: trends,
    snapshots, other rankings) and exported (`export(board, path)`)."""

    key: str
    kpis: Callable[[dict], dict]
    rankable: dict
    default_rank: str
    template: str
    prefix: str = ""
    ascending: frozenset = frozenset()
    minimum_indicator: Callable[[str], str] = str
    extend: Callable | None = None
    context: Callable | None = None
    export: Callable | None = None
    export_name: str = "{region}-{span}.xlsx"


_boards: dict[str, BoardSpec] = {}


def register(spec: BoardSpec) -> None:
    _boards[spec.key] = spec


def board_spec(key: str) -> BoardSpec:
    try:
        return _boards[key]
    except KeyError:
        raise Http404


@dataclass
class Board:
    spec: BoardSpec
    region: Region
    span: Span
    crumbs: list
    figures: dict
    rank_by: str
    minimum: int
    values: dict = field(default_factory=dict)  # the place's own cell: indicator → value
    children: list = field(default_factory=list)
    ranked: list = field(default_factory=list)
    unranked: list = field(default_factory=list)
    child_level: str = ""
    extra: dict = field(default_factory=dict)

    def __getattr__(self, name):
        # What the feeding app added (extend()): b.trend, b.snapshot, b.workers_ranked...
        extra = self.__dict__.get("extra")
        if extra is not None and name in extra:
            return extra[name]
        raise AttributeError(name)


def rank(units: list, key: str, minimum: int, name: Callable, ascending: bool = False) -> tuple[list, list]:
    """Units whose basis reaches the minimum, best first (ties share a rank, then the larger
    basis, then `name`); the rest apart, in their order."""
    ok = [u for u in units if u["k"]["basis"][key] >= max(minimum, 1) and u["k"][key] is not None]
    ok.sort(key=lambda u: (u["k"][key] if ascending else -u["k"][key], -u["k"]["basis"][key], name(u)))
    prev, place = None, 0
    for i, u in enumerate(ok, start=1):
        if u["k"][key] != prev:
            place, prev = i, u["k"][key]
        u["rank"] = place
    return ok, [u for u in units if u not in ok]


def cell_values(region_ids: list[int], sp: Span, prefix: str = "") -> dict[int, dict]:
    """indicator → value of each place's cell in the period (one query)."""
    rows = Rollup.objects.filter(region_id__in=region_ids, period=sp.period, period_start=sp.start)
    if prefix:
        rows = rows.filter(indicator__startswith=prefix)
    out: dict[int, dict] = {}
    for rid, ind, v in rows.values_list("region_id", "indicator", "value"):
        out.setdefault(rid, {})[ind] = v
    return out


def crumbs(user, region: Region) -> list[Region]:
    """The places above (and with) this one that lie in the user's area."""
    paths = area_paths(user)
    above = [region.path[: i * Region.steplen] for i in range(1, region.depth)]
    return [r for r in [*_regions().filter(path__in=above).order_by("depth"), region] if any(r.path.startswith(p) for p in paths)]


def build(spec: BoardSpec, user, region: Region, sp: Span, rank_by: str | None = None) -> Board:
    """The board of `region` in `sp` as the user sees it, ranked by `rank_by`."""
    if rank_by not in spec.rankable:
        rank_by = spec.default_rank
    mine = cell_values([region.pk], sp, spec.prefix).get(region.pk, {})
    minimum = min_orders(spec.minimum_indicator(rank_by), sp.last_day)
    b = Board(spec, region, sp, crumbs(user, region), spec.kpis(mine), rank_by, minimum, values=mine)
    if region.depth < 5:
        children = list(_regions().filter(path__startswith=region.path, depth=region.depth + 1).order_by("code", "path"))
        # By id through the cell key: a path prefix would walk every row below a city.
        cells = cell_values([c.pk for c in children], sp, spec.prefix)
        b.children = [{"region": c, "k": spec.kpis(cells.get(c.pk, {}))} for c in children]
        b.ranked, b.unranked = rank(b.children, rank_by, b.minimum, lambda u: u["region"].code, rank_by in spec.ascending)
        b.child_level = children[0].get_level_display() if children else ""
    if spec.extend is not None:
        spec.extend(b, user)
    return b
