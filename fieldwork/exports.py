"""What field work writes out: the Excel workbooks of the compliance dashboard and of the
residents' ratings, and the QR code of a grid notice's public page.

- Compliance: the figures, the ranking of the units below and the table of grid workers (names
  only: no phone or ID number leaves in it), for the area and period the page shows (the same
  scope checks).
- Ratings: per grid worker and per grid, and the comments (never who wrote them).
"""

import io

import segno
from django.utils.translation import gettext as _

from linli.xlsx import StreamingWorkbook


def _pct(v):
    return round(v * 100, 1) if v is not None else None


def _num(v, digits=2):
    return round(v, digits) if v is not None else None


def _cols(k: dict) -> list:
    return [
        k["required"], k["met"], _pct(k["coverage"]), k["visits"], k["worker_days"], _num(k["patrol_hours"]), _pct(k["patrol"]),
        k["reports"], k["due"], _pct(k["on_time"]), k["attend_count"], _num(k["attend_minutes"], 1), k["ratings"], _num(k["rating"]),
    ]  # fmt: skip


def _headers() -> list:
    return [
        _("Households due"), _("Households visited as required"), _("Visit coverage (%)"), _("Visits"), _("Worker-days"),
        _("Patrol hours per worker-day"), _("Days meeting the patrol minimum (%)"), _("Reports made"), _("Orders due"),
        _("Orders handled on time (%)"), _("Must-attend arrivals"), _("Average arrival (minutes)"), _("Ratings"), _("Evaluation (1-5)"),
    ]  # fmt: skip


def write_compliance(b, path: str) -> str:
    f = b.figures
    wb = StreamingWorkbook(path)
    sheet = wb.add_sheet(_("Figures"), [_("Indicator"), _("Value")], [34, 16])
    sheet.write_row([_("Figures for"), b.region.name])
    sheet.write_row([_("Period"), b.span.label])
    for label, value in zip(_headers(), _cols(f), strict=True):
        sheet.write_row([label, value])
    sheet.write_row([_("Households overdue (on %(day)s)") % {"day": b.overdue_on.isoformat()}, b.overdue])

    if b.region.depth < 5:
        headers = [_("Rank"), _("Unit below"), *_headers(), _("Note")]
        sheet = wb.add_sheet(_("Ranking of units"), headers, [8, 20] + [12] * 14 + [30])
        for u in b.ranked + b.unranked:
            note = "" if "rank" in u else _("Not ranked (fewer than %(n)s)") % {"n": b.minimum}
            sheet.write_row([u.get("rank"), u["region"].name, *_cols(u["k"]), note])

    headers = [_("Rank"), _("Grid worker"), _("Grids"), *_headers(), _("Note")]
    sheet = wb.add_sheet(_("Grid workers"), headers, [8, 14, 20] + [12] * 14 + [30])
    for u in b.workers_ranked + b.workers_unranked:
        note = "" if "rank" in u else _("Not ranked (fewer than %(n)s)") % {"n": b.worker_minimum}
        sheet.write_row([u.get("rank"), u["name"], u["grids"], *_cols(u["k"]), note])
    wb.close()
    return path


def write_ratings(res, path: str) -> str:
    """The workbook of one round's ratings in an area (fieldwork.services.evaluations.results)."""
    wb = StreamingWorkbook(path)
    head = [_("Rank"), _("Grid worker"), _("Grid"), _("Ratings"), _("Average")] + [_("%(n)s stars") % {"n": n} for n in (1, 2, 3, 4, 5)]
    sheet = wb.add_sheet(_("Grid workers"), head, [8, 16, 16, 10, 10, 8, 8, 8, 8, 8])
    for t in res.workers:
        sheet.write_row([t.rank, t.name, t.grid_name, t.count, t.average, *t.distribution])
    sheet = wb.add_sheet(_("Grids"), [_("Rank"), _("Grid"), _("Ratings"), _("Average")] + head[5:], [8, 16, 10, 10, 8, 8, 8, 8, 8])
    for t in res.grids:
        sheet.write_row([t.rank, t.name, t.count, t.average, *t.distribution])
    sheet = wb.add_sheet(_("Comments"), [_("Date"), _("Grid worker"), _("Grid"), _("Stars"), _("Comment")], [12, 16, 16, 8, 60])
    for t in res.workers:
        for c in t.comments:
            sheet.write_row([c["on"].isoformat(), t.name, t.grid_name, c["score"], c["comment"]])
    wb.close()
    return path


def qr_svg(url: str, *, inline: bool = False) -> str:
    """The QR code of the public address as SVG (error correction M, 4-module quiet zone)."""
    qr = segno.make(url, error="m", micro=False, boost_error=False)
    if inline:
        return qr.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", lineclass="qr-line")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=8, border=4, xmldecl=True, svgns=True, title=url)
    return out.getvalue().decode()
