"""Helpers for the import tests: spreadsheets made on the fly, counts of every registry table."""

import csv
import datetime as dt
import io

import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import (
    Building,
    House,
    Household,
    HouseholdMembership,
    ImportJob,
    Organization,
    Resident,
    ResidentEvent,
    ResidentTag,
)
from registry.services import idnumber, importer

HEADER = [label for _key, label, _req in importer.HEADERS]
COLS = [key for key, _label, _req in importer.HEADERS]


def person_id(year=1980, month=1, day=2, gender="M", seq=7, area="320508") -> str:
    return idnumber.make(area, dt.date(year, month, day), gender, seq)


def row(**values) -> list:
    """A row in template order; unspecified cells empty."""
    base = {"grid": "第一网格", "estate": "幸福小区", "building": "3", "unit": "1", "room": "101", "relation": "户主"}
    base.update(values)
    return [base.get(k, "") for k in COLS]


def xlsx_bytes(rows, header=HEADER, title=None, text_columns=()) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    r0 = 0
    if title:
        ws.write_string(0, 0, title)
        r0 = 1
    for c, h in enumerate(header):
        ws.write_string(r0, c, h)
    for r, values in enumerate(rows, start=r0 + 1):
        for c, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, (int, float)):
                ws.write_number(r, c, value)
            elif isinstance(value, dt.date):
                ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), wb.add_format({"num_format": "yyyy-mm-dd"}))
            else:
                ws.write_string(r, c, value)
    wb.close()
    return buf.getvalue()


def csv_bytes(rows, header=HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    for values in rows:
        w.writerow(values)
    return out.getvalue().encode(encoding)


def upload(data: bytes, name="台账.xlsx"):
    return SimpleUploadedFile(name, data)


def run(user, rows, *, mode="atomic", name="台账.xlsx", region=None, **kw) -> ImportJob:
    data = csv_bytes(rows, **kw) if name.endswith(".csv") else xlsx_bytes(rows, **kw)
    return importer.start_import(user, upload(data, name), mode=mode, region=region)


def counts() -> dict:
    from auditlog.models import LogEntry

    models = (Building, House, Household, HouseholdMembership, Resident, ResidentEvent, ResidentTag, Organization, LogEntry)
    return {m.__name__: m.objects.count() for m in models}


def report_rows(job) -> list[list]:
    from python_calamine import CalamineWorkbook

    assert job.report, "the job has a report"
    return CalamineWorkbook.from_path(job.report.path).get_sheet_by_index(0).to_python()


def statuses(job) -> list[str]:
    return [r[1] for r in report_rows(job)[1:]]
