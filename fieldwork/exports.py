"""Excel export of the field-work compliance dashboard: the figures, the ranking of the units
below and the table of grid workers (names only: no phone or ID number leaves in it), for the
area and period the page shows (the same scope checks)."""

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
