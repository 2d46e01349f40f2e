"""Dashboards (看板): a place's figures for a month, quarter or year, the ranking of the units
directly below it, and their Excel export, for every board an app registered (work orders by
default). Everything is read from Rollup rows; a unit outside the user's area answers 404."""

import os
import tempfile
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from linli.pages import page

from .access import PERIOD_LABELS, board_spec, build, place_for, span

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_BOARD = "wo"


def board_of(request, region_id=None, key: str = DEFAULT_BOARD):
    """The board the request asks for (region, period, ranking), and a message for bad input."""
    spec = board_spec(key)
    region = place_for(request.user, region_id)
    sp, error = span(request.GET.get("period"), request.GET.get("at"))
    return build(spec, request.user, region, sp, request.GET.get("rank") or spec.default_rank), error


@page()
@require_GET
def dashboard(request, region_id=None, key: str = DEFAULT_BOARD):
    b, error = board_of(request, region_id, key)
    if error:
        messages.error(request, error)
    query = {"period": b.span.period, "at": b.span.start.strftime("%Y-%m"), "rank": b.rank_by}
    ctx = {
        "board": b,
        "f": b.figures,
        "periods": PERIOD_LABELS.items(),
        "rankable": b.spec.rankable.items(),
        "query": urlencode(query),
        "period_query": urlencode({k: v for k, v in query.items() if k != "rank"}),
        "export_url": reverse("insights:export", args=[b.region.pk]) + "?" + urlencode(query),
    }
    if b.spec.context is not None:
        ctx.update(b.spec.context(b))
    return render(request, b.spec.template, ctx)


def excel(b) -> FileResponse:
    """The board written to a workbook by its app's exporter, as a download."""
    fd, path = tempfile.mkstemp(prefix="linli-board-", suffix=".xlsx")
    os.close(fd)
    try:
        b.spec.export(b, path)
        handle = open(path, "rb")
    finally:
        os.unlink(path)  # the open handle keeps the data until the response is sent
    name = b.spec.export_name.format(region=b.region.name, span=b.span.label)
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)


@page()
@require_GET
def export(request, region_id, key: str = DEFAULT_BOARD):
    b, _error = board_of(request, region_id, key)
    return excel(b)
