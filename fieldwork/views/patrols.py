"""Patrol pages: the grid worker's phone page (start / end, live route, today's time against the
minimum), one patrol's route and what was reported on the way, and the staff's daily table.

Views parse, call fieldwork/services/patrols.py, render; patrols come through fieldwork/access.py,
so a patrol outside the viewer's area is a 404.
"""

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import scope_paths
from linli.errors import DomainError
from linli.pages import page, raise_access

from .. import access
from ..models import PatrolStatus
from ..services import patrols

PAGE = 50
QUICK_FORMS = ("hazard", "arrival", "incident")


def _boundary(grids) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": g.boundary, "properties": {"name": g.name}} for g in grids if g.boundary
        ],
    }


# A phone draws a route of this many points at most (a 12-hour patrol at one fix every few
# seconds has ten thousand); every k-th point and the last one are kept.
MAX_DRAWN = 2000


def _thin(points: list) -> list:
    if len(points) <= MAX_DRAWN:
        return points
    step = -(-len(points) // MAX_DRAWN)
    return points[::step] + ([points[-1]] if (len(points) - 1) % step else [])


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@page()
def home(request):
    user = request.user
    grids = access.worker_grids(user)
    if not grids:
        if scope_paths(user):
            return redirect("fieldwork:patrol_daily")
        raise PermissionDenied
    today = timezone.localdate()
    active = access.active_patrol(user)
    ended_today = patrols.daily_totals(Q(worker=user, status=PatrolStatus.ENDED), today, today).get((user.pk, today), 0)
    minimum = patrols.min_minutes(grids[0].path, today)
    week = access.patrols_since(user, timezone.make_aware(dt.datetime.combine(_week_start(today), dt.time())))
    for p in week:
        p.duration = patrols.duration_text(p.seconds if p.status == PatrolStatus.ENDED else patrols.elapsed(p))
    route = patrols.route(active) if active else []
    state = {
        "active": {
            "id": active.pk,
            "key": active.client_key or str(active.pk),
            "started_at": active.started_at.isoformat(),
            "grid": active.region_id,
            "distance_m": active.distance_m,
            "points": [[lat, lng] for _a, lat, lng, _acc in route[-500:]],
        } if active else None,
        "ended_today": ended_today,
        "min_seconds": minimum * 60,
        "today": today.isoformat(),
        "grids": [{"id": g.pk, "name": g.name} for g in grids],
        "api": "/api/fieldwork/patrols",
        "done_url": reverse("fieldwork:patrol_by_key", args=["KEY"]),
        "home_url": reverse("fieldwork:patrols"),
    }
    quick = []
    for form in QUICK_FORMS:
        try:
            quick.append((form, reverse("fieldwork:quick_report", args=[form])))
        except Exception:  # the quick forms are another page's; the links appear when it exists
            pass
    return render(request, "fieldwork/patrols/home.html", {
        "grids": grids,
        "active": active,
        "state": state,
        "geo": _boundary(grids),
        "minimum": minimum,
        "minimum_text": patrols.duration_text(minimum * 60),
        "today_text": patrols.duration_text(ended_today + (patrols.elapsed(active) if active else 0)),
        "percent": min(100, round(100 * (ended_today + (patrols.elapsed(active) if active else 0)) / (minimum * 60))) if minimum else 100,
        "week": week,
        "quick": quick,
    })


@page()
@require_POST
def start(request):
    """No-script fallback of the big button (the page's script calls the API instead)."""
    try:
        patrols.start_patrol(request.user, grid=request.POST.get("grid") or None, client_key=request.POST.get("client_key", ""))
    except DomainError as error:
        raise_access(error)
        messages.error(request, error.text())
    return redirect("fieldwork:patrols")


@page()
@require_POST
def end(request, pk: int):
    try:
        patrol = patrols.end_patrol(request.user, pk, note=request.POST.get("note", ""))
    except DomainError as error:
        raise_access(error)
        messages.error(request, error.text())
        return redirect("fieldwork:patrols")
    return redirect("fieldwork:patrol_detail", patrol.pk)


@page()
def by_key(request, key: str):
    """Where the phone goes after ending a patrol it only knows by its own key."""
    try:
        patrol = patrols.patrol_by_key(request.user, key)
    except DomainError:
        raise Http404
    return redirect("fieldwork:patrol_detail", patrol.pk)


@page()
def detail(request, pk: int):
    patrol = access.own_or_scoped_patrol(request.user, pk)
    points = patrols.route(patrol)
    orders, visits = patrols.found_on_the_way(patrol)
    seconds = patrol.seconds if patrol.status == PatrolStatus.ENDED else patrols.elapsed(patrol)
    day = timezone.localtime(patrol.started_at).date()
    return render(request, "fieldwork/patrols/detail.html", {
        "patrol": patrol,
        "geo": _boundary([patrol.region]),
        "route": _thin([[round(lat, 7), round(lng, 7)] for _a, lat, lng, _acc in points]),
        "duration": patrols.duration_text(seconds),
        "distance_km": f"{patrol.distance_m / 1000:.2f}",
        "orders": orders,
        "visits": visits,
        "is_mine": patrol.worker_id == request.user.pk,
        "day_total": patrols.duration_text(patrols.daily_seconds(patrol.worker, day)),
        "minimum_text": patrols.duration_text(patrols.min_minutes(patrol.region_path, day) * 60),
        "day": day,
    })


def _date(value, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip()) if value else default
    except ValueError:
        return default


@page()
def daily(request):
    user = request.user
    paths = scope_paths(user)
    if not paths:
        raise PermissionDenied
    today = timezone.localdate()
    day_to = min(_date(request.GET.get("to"), today), today)
    day_from = _date(request.GET.get("from"), day_to - dt.timedelta(days=6))
    error = None
    if day_from > day_to:
        error = _("The first day must not be after the last day.")
        day_from = day_to
    if (day_to - day_from).days > 92:
        error = _("Choose at most 93 days at a time.")
        day_from = day_to - dt.timedelta(days=92)
    grid = None
    grid_id = request.GET.get("grid") or ""
    if grid_id:
        grid = access.grid(user, grid_id)
    try:
        page_no = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        page_no = 1
    rows, total = patrols.worker_days(paths, day_from, day_to, grid=grid, offset=(page_no - 1) * PAGE, limit=PAGE)
    for r in rows:
        r["time"] = patrols.duration_text(r["seconds"])
        r["minimum"] = patrols.duration_text(r["min_minutes"] * 60)
    grids = access.grids_under(paths)
    query = {"from": day_from.isoformat(), "to": day_to.isoformat(), **({"grid": grid.pk} if grid else {})}
    pages = (total + PAGE - 1) // PAGE
    return render(request, "fieldwork/patrols/daily.html", {
        "rows": rows,
        "total": total,
        "grids": grids,
        "grid": grid,
        "day_from": day_from,
        "day_to": day_to,
        "error": error,
        "page_no": page_no,
        "pages": pages,
        "prev_url": f"?{urlencode({**query, 'page': page_no - 1})}" if page_no > 1 else None,
        "next_url": f"?{urlencode({**query, 'page': page_no + 1})}" if page_no < pages else None,
        "met_count": sum(1 for r in rows if r["met"]),
    })
