"""Compliance dashboard of field work (走访巡查考核): a place's figures for a month, quarter or
year from the fw.* Rollup cells, coverage of the units below, the monthly trend, rankings of the
units below and of the grid workers of the area (from their worker-days), and the Excel export.
Staff with an area (grid workers see their grid); a unit outside it answers 404."""

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, Sum
from django.http import FileResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.models import User
from insights.access import PERIOD_LABELS, Span, area_paths, min_orders, place_for, span
from insights.models import Rollup
from linli.db import prefix_q
from linli.pages import page
from regions.models import Region

from .models import WorkerMonth, WorkerRating

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# key: label. The ranking minimum is looked up as RankingRule "fw.<key>" (else "*").
RANKABLE = {
    "coverage": gettext_lazy("Visit coverage"),
    "patrol": gettext_lazy("Days meeting the patrol minimum"),
    "on_time": gettext_lazy("Orders handled on time"),
    "rating": gettext_lazy("Residents' evaluation"),
}
# What the minimum counts, per key.
BASIS_UNITS = {
    "coverage": gettext_lazy("households"),
    "patrol": gettext_lazy("worker-days"),
    "on_time": gettext_lazy("orders"),
    "rating": gettext_lazy("ratings"),
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


def _rank(units: list, key: str, minimum: int, name) -> tuple[list, list]:
    """Units whose basis reaches the minimum, best first (ties share a rank); the rest apart."""
    ok = [u for u in units if u["k"]["basis"][key] >= max(minimum, 1) and u["k"][key] is not None]
    ok.sort(key=lambda u: (-u["k"][key], -u["k"]["basis"][key], name(u)))
    prev, rank = None, 0
    for i, u in enumerate(ok, start=1):
        if u["k"][key] != prev:
            rank, prev = i, u["k"][key]
        u["rank"] = rank
    return ok, [u for u in units if u not in ok]


@dataclass
class Board:
    region: Region
    span: Span
    crumbs: list
    figures: dict
    overdue: int
    overdue_on: dt.date
    rank_by: str
    minimum: int
    worker_minimum: int
    trend: dict = field(default_factory=dict)
    children: list = field(default_factory=list)
    ranked: list = field(default_factory=list)
    unranked: list = field(default_factory=list)
    workers_ranked: list = field(default_factory=list)
    workers_unranked: list = field(default_factory=list)
    child_level: str = ""

    @property
    def worker_key(self) -> str:
        return WORKER_KEY.get(self.rank_by, self.rank_by)


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


def board(user, region: Region, sp: Span, rank_by: str = "coverage") -> Board:
    if rank_by not in RANKABLE:
        rank_by = "coverage"
    paths = area_paths(user)
    crumbs = [r for r in region.ancestors_and_self() if any(r.path.startswith(p) for p in paths)]
    mine = dict(Rollup.objects.filter(region=region, period=sp.period, period_start=sp.start, indicator__startswith="fw.").values_list("indicator", "value"))
    today = timezone.localdate()
    on = min(today, sp.last_day)
    overdue = Rollup.objects.filter(region=region, period="day", period_start=on, indicator="fw.overdue").values_list("value", flat=True).first()
    worker_key = WORKER_KEY.get(rank_by, rank_by)
    b = Board(
        region, sp, crumbs, kpis(mine), int(overdue or 0), on, rank_by,
        min_orders(f"fw.{rank_by}", sp.last_day), min_orders(f"fw.worker.{worker_key}", sp.last_day),
    )  # fmt: skip

    months = _months_back(min(sp.last_day, today), 12)
    trend_rows = Rollup.objects.filter(
        region=region, period="month", period_start__in=months, indicator__in=["fw.coverage.required", "fw.coverage.met", "fw.patrol.worker_days", "fw.patrol.days_met", "fw.visits"]
    ).values_list("period_start", "indicator", "value")
    by_month: dict = {}
    for d, ind, v in trend_rows:
        by_month.setdefault(d, {})[ind] = v
    ks = [kpis(by_month.get(m, {})) for m in months]
    b.trend = {
        "labels": [f"{m.year % 100:02d}年{m.month}月" for m in months],
        "coverage": [round(k["coverage"] * 100, 1) if k["coverage"] is not None else None for k in ks],
        "patrol": [round(k["patrol"] * 100, 1) if k["patrol"] is not None else None for k in ks],
        "visits": [k["visits"] for k in ks],
    }

    if region.depth < 5:
        children = list(Region.objects.filter(path__startswith=region.path, depth=region.depth + 1).order_by("code", "path"))
        cells: dict[int, dict] = {}
        rows = Rollup.objects.filter(region_id__in=[c.pk for c in children], period=sp.period, period_start=sp.start, indicator__startswith="fw.")
        for rid, ind, v in rows.values_list("region_id", "indicator", "value"):
            cells.setdefault(rid, {})[ind] = v
        units = [{"region": c, "k": kpis(cells.get(c.pk, {}))} for c in children]
        b.children = units
        b.ranked, b.unranked = _rank(units, rank_by, b.minimum, lambda u: u["region"].code)
        b.child_level = children[0].get_level_display() if children else ""
    workers = worker_rows(region, sp)
    b.workers_ranked, b.workers_unranked = _rank(workers, worker_key, b.worker_minimum, lambda u: u["name"])
    return b


def _board(request):
    region = place_for(request.user, request.GET.get("region") or None)
    sp, error = span(request.GET.get("period"), request.GET.get("at"))
    return board(request.user, region, sp, request.GET.get("rank") or "coverage"), error


def _may_see(user) -> bool:
    return bool(area_paths(user))


@page(allow=_may_see)
@require_GET
def dashboard(request):
    b, error = _board(request)
    if error:
        messages.error(request, error)
    query = {"region": b.region.pk, "period": b.span.period, "at": b.span.start.strftime("%Y-%m"), "rank": b.rank_by}
    base = {k: v for k, v in query.items() if k != "region"}
    return render(
        request,
        "fieldwork/compliance/dashboard.html",
        {
            "b": b,
            "f": b.figures,
            "periods": PERIOD_LABELS.items(),
            "rankable": RANKABLE.items(),
            "basis_unit": BASIS_UNITS[b.rank_by],
            # A city has thousands of grid workers: the page shows the top 50 and 20 unranked.
            "workers_hidden": max(0, len(b.workers_ranked) - 50) + max(0, len(b.workers_unranked) - 20),
            "worker_basis_unit": BASIS_UNITS[b.worker_key],
            "query": urlencode(base),
            "period_query": urlencode({k: v for k, v in query.items() if k != "rank"}),
            "export_url": reverse("fieldwork:compliance_export") + "?" + urlencode(query),
            "charts": {
                "trend": b.trend,
                "children": [
                    {"name": u["region"].name, "value": round(u["k"]["coverage"] * 100, 1) if u["k"]["coverage"] is not None else None}
                    for u in b.children
                ],
                "labels": {
                    "coverage": _("Visit coverage"),
                    "patrol": _("Days meeting the patrol minimum"),
                    "visits": _("Visits"),
                    "empty": _("No figures in this period"),
                },
            },
        },
    )


@page(allow=_may_see)
@require_GET
def export(request):
    from .exports import write_compliance

    b, _error = _board(request)
    fd, tmp = tempfile.mkstemp(prefix="linli-fieldwork-", suffix=".xlsx")
    os.close(fd)
    try:
        write_compliance(b, tmp)
        handle = open(tmp, "rb")
    finally:
        os.unlink(tmp)  # the open handle keeps the data until the response is sent
    name = f"{b.region.name}-{b.span.label}-走访巡查考核.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)


urlpatterns = [
    path("compliance/", dashboard, name="compliance"),
    path("compliance/export.xlsx", export, name="compliance_export"),
]
