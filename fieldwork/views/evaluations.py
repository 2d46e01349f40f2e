"""Pages of residents' ratings of grid workers.

- /fieldwork/evaluate/            a resident rates their grid's worker(s) (phone, large print)
- /fieldwork/evaluations/         staff: results per grid and worker in their area and a round
- /fieldwork/evaluations/rounds/  administrators move the rating windows

Views parse, call fieldwork.services.evaluations, render; the area comes through regions.access,
so a place outside the user's area is a 404.
"""

import datetime as dt
import os
import tempfile

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import scope_paths
from linli.errors import DomainError
from linli.pages import page, raise_access
from regions import access as regions_access
from regions.models import Level

from .. import access, exports
from ..models import EvaluationRound
from ..services import evaluations as ev

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows of each results table on the page (a whole city has ~20,000 workers: the export has all).
TABLE_ROWS = 300

SCORE_WORDS = {
    1: _("Very dissatisfied"),
    2: _("Dissatisfied"),
    3: _("So-so"),
    4: _("Satisfied"),
    5: _("Very satisfied"),
}


# ---------------------------------------------------------------- resident


@page(allow=ev.is_resident)
@require_http_methods(["GET", "POST"])
def evaluate(request):
    error, error_worker = None, None
    if request.method == "POST":
        try:
            rating = ev.rate(
                request.user,
                worker=request.POST.get("worker"),
                score=request.POST.get("score"),
                comment=request.POST.get("comment", ""),
            )
        except DomainError as e:
            raise_access(e)
            error, error_worker = e, request.POST.get("worker")
        else:
            messages.success(
                request,
                gettext("Thank you! You gave %(name)s %(n)s stars.") % {"name": rating.worker, "n": rating.score},
            )
            return redirect("fieldwork:evaluate")
    data = ev.rate_page(request.user)
    return render(request, "fieldwork/evaluations/evaluate.html", {
        "data": data,
        "error": error,
        "error_worker": str(error_worker or ""),
        "posted": request.POST if error else {},
        "words": [(n, SCORE_WORDS[n]) for n in (1, 2, 3, 4, 5)],
        "comment_max": ev.COMMENT_MAX,
        "notice": ev.notice_of(data.grid) if data.grid else None,
    })


# ---------------------------------------------------------------- staff results


def _area(request):
    """The area the staff member looks at: ?region= within their scope, else their home."""
    rid = request.GET.get("region")
    if rid:
        return regions_access.place(request.user, rid)
    region = regions_access.home_region(request.user)
    if region is None:
        raise Http404
    return region


def _round(request):
    rid = request.GET.get("round")
    if rid:
        rnd = EvaluationRound.objects.filter(pk=rid if str(rid).isdigit() else 0).first()
        if rnd is None:
            raise Http404
        return rnd
    today = timezone.localdate()
    return ev.current_round(today) or ev.last_closed_round(today) or ev.default_round(ev.half_start(today))


def _results(request):
    area = _area(request)
    rnd = _round(request)
    return area, rnd, ev.results(area.path, rnd)


@page("fieldwork.view_figures")
@require_GET
def results(request):
    area, rnd, res = _results(request)
    top = scope_paths(request.user)
    crumbs = [r for r in area.ancestors_and_self() if any(r.path.startswith(p) for p in top)]
    children = [] if area.level >= Level.GRID else access.units_below(area)
    peak = max(res.total.distribution) or 1
    bars = [(n, SCORE_WORDS[n], res.total.distribution[n - 1], round(res.total.distribution[n - 1] * 100 / peak)) for n in (5, 4, 3, 2, 1)]
    comments = []
    for t in res.workers:
        for c in t.comments:
            comments.append({**c, "worker": t.name, "grid": t.grid_name})
    comments.sort(key=lambda c: c["on"], reverse=True)
    return render(request, "fieldwork/evaluations/results.html", {
        "area": area,
        "round": rnd,
        "rounds": EvaluationRound.objects.order_by("-period_start")[:12],
        "res": res,
        "workers": res.workers[:TABLE_ROWS],
        "grids": res.grids[:TABLE_ROWS],
        "more_workers": max(0, len(res.workers) - TABLE_ROWS),
        "more_grids": max(0, len(res.grids) - TABLE_ROWS),
        "bars": bars,
        "crumbs": crumbs,
        "children": children,
        "comments": comments[:100],
        "may_manage": ev.may_manage_rounds(request.user),
        "today": timezone.localdate(),
    })


@page("fieldwork.view_figures")
@require_GET
def results_export(request):
    area, rnd, res = _results(request)
    fd, tmp = tempfile.mkstemp(prefix="linli-ratings-", suffix=".xlsx")
    os.close(fd)
    try:
        exports.write_ratings(res, tmp)
        handle = open(tmp, "rb")
    finally:
        os.unlink(tmp)
    name = f"{area.name}-{rnd.name}-网格员评价.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)


def _date(value):
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


@page(allow=ev.may_manage_rounds)
@require_http_methods(["GET", "POST"])
def rounds(request):
    error, error_round = None, None
    if request.method == "POST":
        rnd = EvaluationRound.objects.filter(pk=request.POST.get("round") if str(request.POST.get("round", "")).isdigit() else 0).first()
        if rnd is None:
            raise Http404
        try:
            ev.update_round(
                request.user, rnd,
                name=request.POST.get("name", ""),
                opens_on=_date(request.POST.get("opens_on")),
                closes_on=_date(request.POST.get("closes_on")),
            )
        except DomainError as e:
            raise_access(e)
            error, error_round = e, rnd.pk
        else:
            messages.success(request, gettext("The rating window is saved."))
            return redirect("fieldwork:evaluation_rounds")
    today = timezone.localdate()
    return render(request, "fieldwork/evaluations/rounds.html", {
        "rounds": ev.rounds_for_admin(today),
        "today": today,
        "current": ev.current_round(today, create=False),
        "error": error,
        "error_round": error_round,
        "grace": ev.GRACE_DAYS,
    })
