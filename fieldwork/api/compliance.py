"""Compliance figures of field work over JSON (mounted at /api/fieldwork/).

- `GET /compliance?region=&period=&at=&rank=` the figures of a place (default: the widest unit
  of the caller's area) for a month, quarter or year, its units below and its grid workers, each
  with `rank` (null when below the ranking minimum). The same numbers as the dashboard, read from
  the roll-ups and worker-days; a place outside the caller's area answers 404, a caller without
  an area (residents, department handlers) 403.
"""

from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema

from insights.access import place_for, span
from linli.errors import Forbidden
from linli.schemas import errors
from regions.schemas import RegionRef, region_ref

from ..figures import board

router = Router(tags=["fieldwork"])

FIGURES = ("required", "met", "coverage", "visits", "worker_days", "patrol_hours", "patrol", "reports", "due", "on_time",
           "attend_count", "attend_minutes", "ratings", "rating")  # fmt: skip


class Figures(Schema):
    required: int
    met: int
    coverage: float | None
    visits: int
    worker_days: int
    patrol_hours: float | None
    patrol: float | None
    reports: int
    due: int
    on_time: float | None
    attend_count: int
    attend_minutes: float | None
    ratings: int
    rating: float | None


class UnitOut(Schema):
    region: RegionRef
    rank: int | None
    figures: Figures


class WorkerOut(Schema):
    id: int
    name: str
    grids: str
    rank: int | None
    figures: Figures


class ComplianceOut(Schema):
    region: RegionRef
    period: str
    period_start: str
    label: str
    rank_by: str
    minimum: int
    worker_minimum: int
    overdue: int
    figures: Figures
    units: list[UnitOut]
    workers: list[WorkerOut]


def _figures(k: dict) -> dict:
    return {f: k[f] for f in FIGURES}


@router.get("/compliance", response={200: ComplianceOut, **errors()}, summary="Field-work compliance figures of a place")
def compliance(request, region: int | None = None, period: str | None = None, at: str | None = None, rank: str = "coverage"):
    if not request.user.has_perm("fieldwork.view_figures"):
        raise Forbidden("forbidden", _("Only staff with an area can see field-work figures."))
    place = place_for(request.user, region)
    sp, _error = span(period, at)
    b = board(request.user, place, sp, rank)
    return {
        "region": region_ref(b.region),
        "period": sp.period,
        "period_start": sp.start.isoformat(),
        "label": sp.label,
        "rank_by": b.rank_by,
        "minimum": b.minimum,
        "worker_minimum": b.worker_minimum,
        "overdue": b.overdue,
        "figures": _figures(b.figures),
        "units": [{"region": region_ref(u["region"]), "rank": u.get("rank"), "figures": _figures(u["k"])} for u in b.ranked + b.unranked],
        "workers": [
            {"id": u["user"].pk, "name": u["name"], "grids": u["grids"], "rank": u.get("rank"), "figures": _figures(u["k"])}
            for u in b.workers_ranked + b.workers_unranked
        ],
    }
