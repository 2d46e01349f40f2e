"""Pages of residents' ratings of grid workers and of the grid notice (网格公示).

- /fieldwork/evaluate/            a resident rates their grid's worker(s) (phone, large print)
- /fieldwork/evaluations/         staff: results per grid and worker in their area and a round
- /fieldwork/evaluations/rounds/  administrators move the rating windows
- /fieldwork/notice/              the grids whose notice the user writes
- /fieldwork/notice/<id>/edit/    write a grid's notice
- /fieldwork/g/<slug>/            the public notice (no sign-in), its call button, QR code and poster
"""

import datetime as dt
import os
import tempfile

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import scope_paths
from linli.errors import DomainError
from linli.pages import page
from regions import access as regions_access
from regions.models import Level

from . import access, exports
from .models import EvaluationRound
from .services import evaluations as ev

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
            if e.status in (403, 404):
                raise
            error, error_worker = e, request.POST.get("worker")
        else:
            messages.success(
                request,
                _t("Thank you! You gave %(name)s %(n)s stars.") % {"name": rating.worker, "n": rating.score},
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


@page(perm="registry.view")
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


@page(perm="registry.view")
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
            if e.status in (403, 404):
                raise
            error, error_round = e, rnd.pk
        else:
            messages.success(request, _t("The rating window is saved."))
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


# ---------------------------------------------------------------- grid notice (staff)


@page(allow=access.is_field_worker)
@require_GET
def notice_list(request):
    return render(request, "fieldwork/notice/list.html", {"grids": access.notice_grids(request.user)})


@page(allow=access.is_field_worker)
@require_http_methods(["GET", "POST"])
def notice_edit(request, grid_id):
    grid = access.grid(request.user, grid_id)
    if not ev.may_edit_notice(request.user, grid):
        raise DomainError("forbidden", _("Not allowed."), status=403)
    profile = ev.notice_of(grid)
    error = None
    if request.method == "POST":
        phone = request.POST.get("phone", "").strip()
        try:
            ev.update_notice(
                request.user, grid,
                duties=request.POST.get("duties", ""),
                commitment=request.POST.get("commitment", ""),
                service_hours=request.POST.get("service_hours", ""),
                phone="" if request.POST.get("remove_phone") else (phone or None),
            )
        except DomainError as e:
            if e.status in (403, 404):
                raise
            error = e
        else:
            messages.success(request, _t("The grid notice is saved and shown on its public page."))
            return redirect("fieldwork:notice_edit", grid.pk)
    if error is not None:
        values = request.POST
    elif profile is not None:
        values = {"duties": profile.duties, "commitment": profile.commitment, "service_hours": profile.service_hours}
    else:
        values = {"duties": str(ev.DEFAULT_DUTIES), "commitment": str(ev.DEFAULT_COMMITMENT), "service_hours": _t("Monday to Friday 8:30–17:30")}
    public_url = request.build_absolute_uri(reverse("fieldwork:notice", args=[profile.slug])) if profile else ""
    return render(request, "fieldwork/notice/edit.html", {
        "grid": grid, "profile": profile, "values": values, "error": error, "public_url": public_url,
        "workers": ev.grid_workers(grid),
    })


# ---------------------------------------------------------------- public notice (no sign-in)


def _public(slug):
    try:
        return ev.notice_by_slug(slug)
    except DomainError:
        raise Http404


def public_url(request, slug) -> str:
    return request.build_absolute_uri(reverse("fieldwork:notice", args=[slug]))


@require_GET
def notice(request, slug):
    profile = _public(slug)
    data = ev.public_notice(profile)
    return render(request, "fieldwork/notice/public.html", {"n": data, "p": profile})


@require_GET
def notice_print(request, slug):
    profile = _public(slug)
    data = ev.public_notice(profile)
    url = public_url(request, slug)
    return render(request, "fieldwork/notice/print.html", {
        "n": data, "p": profile, "url": url, "qr": mark_safe(exports.qr_svg(url, inline=True)),
        # A long text is set smaller so that the poster stays on one A4 sheet.
        "long": len(profile.duties) + len(profile.commitment) > 300,
    })


class TelRedirect(HttpResponseRedirect):
    allowed_schemes = ["tel"]


@require_GET
@cache_control(no_store=True)
def notice_call(request, slug):
    profile = _public(slug)
    try:
        number = ev.call_number(profile, ip=request.META.get("REMOTE_ADDR"), user=request.user)
    except DomainError as e:
        if e.status == 404:
            raise Http404
        return render(request, "fieldwork/notice/call_refused.html", {"p": profile, "error": e}, status=e.status)
    return TelRedirect(f"tel:{number}")


@require_GET
def notice_qr(request, slug):
    profile = _public(slug)
    return HttpResponse(exports.qr_svg(public_url(request, profile.slug)), content_type="image/svg+xml")


urlpatterns = [
    path("evaluate/", evaluate, name="evaluate"),
    path("evaluations/", results, name="evaluation_results"),
    path("evaluations/export.xlsx", results_export, name="evaluation_export"),
    path("evaluations/rounds/", rounds, name="evaluation_rounds"),
    path("notice/", notice_list, name="notice_list"),
    path("notice/<int:grid_id>/edit/", notice_edit, name="notice_edit"),
    path("g/<slug:slug>/", notice, name="notice"),
    path("g/<slug:slug>/call", notice_call, name="notice_call"),
    path("g/<slug:slug>/qr.svg", notice_qr, name="notice_qr"),
    path("g/<slug:slug>/print/", notice_print, name="notice_print"),
]
