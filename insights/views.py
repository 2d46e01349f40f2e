"""Dashboards (看板): a place's work-order figures for a month, quarter or year, the ranking of
the units directly below it, and their Excel export. Everything is read from Rollup rows; a
unit outside the user's area answers 404."""

import os
import tempfile
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .dashboard import PERIOD_LABELS, board, place_for, span
from .kpis import RANKABLE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _board(request, region_id):
    region = place_for(request.user, region_id)
    sp, error = span(request.GET.get("period"), request.GET.get("at"))
    return board(request.user, region, sp, request.GET.get("rank") or "on_time_rate"), error


@login_required
@require_GET
def dashboard(request, region_id=None):
    b, error = _board(request, region_id)
    if error:
        messages.error(request, error)
    query = {"period": b.span.period, "at": b.span.start.strftime("%Y-%m"), "rank": b.rank_by}
    return render(
        request,
        "insights/dashboard.html",
        {
            "b": b,
            "f": b.figures,
            "periods": PERIOD_LABELS.items(),
            "rankable": RANKABLE.items(),
            "query": urlencode(query),
            "period_query": urlencode({k: v for k, v in query.items() if k != "rank"}),
            "export_url": reverse("insights:export", args=[b.region.pk]) + "?" + urlencode(query),
            "charts": {
                "trend": b.trend,
                "kinds": b.kinds,
                "stages": b.stages,
                "labels": {"received": _("Orders received"), "closed": _("Orders closed"), "hours": _("hours"), "empty": _("No orders in this period")},
            },
        },
    )


@login_required
@require_GET
def export(request, region_id):
    from .exports import write_board

    b, _error = _board(request, region_id)
    fd, path = tempfile.mkstemp(prefix="linli-insights-", suffix=".xlsx")
    os.close(fd)
    try:
        write_board(b, path)
        handle = open(path, "rb")
    finally:
        os.unlink(path)  # the open handle keeps the data until the response is sent
    name = f"{b.region.name}-{b.span.label}-工单指标.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)
