"""Compliance dashboard of field work (走访巡查考核): a place's figures for a month, quarter or
year from the fw.* Rollup cells, coverage of the units below, the monthly trend, rankings of the
units below and of the grid workers of the area (from their worker-days), and the Excel export.
Staff with an area (grid workers see their grid); a unit outside it answers 404. The board is
built by fieldwork/figures.py; the workbook is written by fieldwork/exports.py."""

import os
import tempfile
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from insights.access import PERIOD_LABELS, place_for, span
from linli.pages import page

from .. import exports
from ..figures import RANKABLE, board

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What the minimum counts, per key.
BASIS_UNITS = {
    "coverage": gettext_lazy("households"),
    "patrol": gettext_lazy("worker-days"),
    "on_time": gettext_lazy("orders"),
    "rating": gettext_lazy("ratings"),
}


def _board(request):
    region = place_for(request.user, request.GET.get("region") or None)
    sp, error = span(request.GET.get("period"), request.GET.get("at"))
    return board(request.user, region, sp, request.GET.get("rank") or "coverage"), error


@page("fieldwork.view_figures")
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
            "board": b,
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


@page("fieldwork.view_figures")
@require_GET
def export(request):
    b, _error = _board(request)
    fd, tmp = tempfile.mkstemp(prefix="linli-fieldwork-", suffix=".xlsx")
    os.close(fd)
    try:
        exports.write_compliance(b, tmp)
        handle = open(tmp, "rb")
    finally:
        os.unlink(tmp)  # the open handle keeps the data until the response is sent
    name = f"{b.region.name}-{b.span.label}-走访巡查考核.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)
