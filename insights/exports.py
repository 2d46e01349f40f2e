"""Excel export of a dashboard: its figures, the ranking of the units below and the trend."""

from django.utils.translation import gettext as _

from linli.xlsx import StreamingWorkbook

from .dashboard import Board
from .kpis import RANKABLE


def _pct(v):
    return round(v * 100, 1) if v is not None else None


def _value(key, v):
    if v is None:
        return None
    return round(v, 2) if key == "satisfaction" else _pct(v)


def write_board(b: Board, path: str) -> str:
    f = b.figures
    wb = StreamingWorkbook(path)
    sheet = wb.add_sheet(_("Figures"), [_("Indicator"), _("Value"), _("Unit of measure")], [28, 14, 10])
    sheet.write_row([_("Figures for"), b.region.name, ""])
    sheet.write_row([_("Period"), b.span.label, ""])
    sheet.write_row([_("Orders received"), f["received"], _("orders")])
    sheet.write_row([_("Orders closed"), f["closed"], _("orders")])
    sheet.write_row([_("Due (less suspended)"), f["due"], _("orders")])
    for key, label in RANKABLE.items():
        sheet.write_row([str(label), _value(key, f[key]), _("points") if key == "satisfaction" else "%"])
    for s in b.stages:
        sheet.write_row([_("Average time: %(stage)s") % {"stage": s["name"]}, round(s["hours"], 2) if s["hours"] is not None else None, _("hours")])
    sheet.write_row([_("Open now"), b.snapshot["open"], _("orders")])
    sheet.write_row([_("Overdue now"), b.snapshot["overdue"], _("orders")])

    headers = [_("Rank"), _("Unit below"), _("Orders received"), _("Orders closed")] + [str(label) for label in RANKABLE.values()] + [_("Note")]
    sheet = wb.add_sheet(_("Ranking"), headers, [8, 20, 10, 10] + [14] * len(RANKABLE) + [30])
    for u in b.ranked + b.unranked:
        k = u["k"]
        note = "" if "rank" in u else _("Not ranked (fewer than %(n)s orders)") % {"n": b.minimum}
        sheet.write_row([u.get("rank"), u["region"].name, k["received"], k["closed"]] + [_value(key, k[key]) for key in RANKABLE] + [note])

    sheet = wb.add_sheet(_("Trend"), [_("Date"), _("Orders received"), _("Orders closed")], [14, 10, 10])
    for d, r, c in zip(b.trend["dates"], b.trend["received"], b.trend["closed"], strict=True):
        sheet.write_row([d, r, c])
    wb.close()
    return path
