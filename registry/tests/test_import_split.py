"""Big sheets are read in parts by the checking processes (registry.services.importer.read.SplitSheet): the
parts must give exactly the rows a whole read gives, and an import must come out the same."""

import datetime as dt
import io
import re
import zipfile

import pytest
import xlsxwriter

from registry.models import Resident
from registry.services.importer import check, headers
from registry.services.importer import job as import_job
from registry.services.importer import read as importer  # the reader: SplitSheet, read_rows
from registry.tests.test_import_support import HEADER, person_id, report_rows, row, statuses, upload


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def sheet(rows, *, title=None, constant_memory=False, gaps=()) -> bytes:
    """An .xlsx of the template's header and rows: shared strings (XlsxWriter's default) or
    inline strings (constant memory); dates as Excel dates; no row at the indexes in `gaps`."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "constant_memory": constant_memory})
    ws = wb.add_worksheet("居民")
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    r = 0
    if title:
        ws.write_string(r, 0, title)
        r += 1
    for c, h in enumerate(HEADER):
        ws.write_string(r, c, h)
    for i, values in enumerate(rows):
        r += 1 + (i in gaps)
        for c, value in enumerate(values):
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date)
            elif isinstance(value, int):
                ws.write_number(r, c, value)
            elif value:
                ws.write_string(r, c, value)
    wb.close()
    return buf.getvalue()


def people(n, start=1000):
    out = []
    for i in range(n):
        birth = dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28)
        values = row(name=f"测试{chr(0x4e00 + i)}", id_number=person_id(birth.year, birth.month, birth.day, seq=start + i),
                     room=f"{101 + i}", relation="")
        values[headers.HEADERS.index(("birth_date", "出生日期", False))] = birth  # an Excel date cell
        out.append(values)
    return out


def whole(path):
    """{sheet row number: row} of the non-empty rows of a whole read, trailing empty cells dropped."""
    rows = importer.read_rows(str(path), "xlsx")
    return {i + 1: _trim(r) for i, r in enumerate(rows) if importer.row_filled(r)}


def _trim(r):
    r = list(r)
    while r and r[-1] in ("", None):
        r.pop()
    return r


@pytest.mark.parametrize("constant_memory", [False, True], ids=["shared strings", "inline strings"])
@pytest.mark.parametrize("parts, first", [(2, None), (3, None), (7, None), (7, 0.2)])
def test_the_parts_of_a_sheet_hold_exactly_the_rows_of_a_whole_read(tmp_path, monkeypatch, constant_memory, parts, first):
    monkeypatch.setattr(importer, "SPLIT_MIN_BYTES", 0)
    path = tmp_path / "big.xlsx"
    path.write_bytes(sheet(people(240), title="幸福社区居民台账", constant_memory=constant_memory, gaps={0, 50, 51, 130}))
    split = importer.SplitSheet.open(str(path), parts, first=first)
    assert split is not None and len(split.bounds) == parts
    sizes = [b - a for a, b in split.bounds]
    if first:  # a small first part, the others alike
        assert sizes[0] < min(sizes[1:]) / 3 and max(sizes[1:]) < 1.3 * min(sizes[1:])
    got = {}
    for k in range(parts):
        for n, r in split.part(k):
            if importer.row_filled(r):
                assert n not in got
                got[n] = _trim(r)
    expected = whole(path)
    assert got == expected and len(got) == 242  # title, header, 240 people
    assert [_trim(r) for r in split.head()] == [_trim(r) for r in importer.read_rows(str(path), "xlsx")[:5]]


def _strip_row_numbers(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                body = re.sub(rb'(<row\b[^>]*?) r="\d+"', rb"\1", body)
            out.writestr(info.filename, body)
    return buf.getvalue()


def test_a_sheet_without_row_numbers_or_too_small_is_read_whole(tmp_path, monkeypatch):
    path = tmp_path / "small.xlsx"
    path.write_bytes(sheet(people(30)))
    assert importer.SplitSheet.open(str(path), 2) is None  # under SPLIT_MIN_BYTES
    monkeypatch.setattr(importer, "SPLIT_MIN_BYTES", 0)
    assert importer.SplitSheet.open(str(path), 2) is not None
    assert importer.SplitSheet.open(str(path), 1) is None  # one core: nothing to share
    path.write_bytes(_strip_row_numbers(path.read_bytes()))
    assert importer.SplitSheet.open(str(path), 2) is None


def _import(user, data, mode):
    job = import_job.start_import(user, upload(data), mode=mode)
    job.refresh_from_db()
    return job


def test_an_import_read_in_parts_comes_out_as_one_read_whole(world, monkeypatch):
    rows = people(60)
    rows[17][1] = "320508198001021234"  # a wrong checksum
    rows[40][1] = rows[3][1]  # the same person twice
    data = sheet(rows, title="台账", gaps={10, 33})

    monkeypatch.setattr(check, "WORKERS", 1)
    whole_job = _import(world.grid1_user, data, "valid_rows")
    whole_report, whole_statuses = report_rows(whole_job), statuses(whole_job)
    made = sorted(Resident.objects.filter(name__startswith="测试").values_list("name", "birth_date", "household__house__room"))
    Resident.objects.filter(name__startswith="测试").update(name="旧")  # the next import must make them anew...
    assert whole_job.created_count == 58 and whole_job.error_count == 2

    monkeypatch.setattr(check, "WORKERS", 3)
    monkeypatch.setattr(importer, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(import_job, "_streams", lambda kind: False)  # test_import_streamed.py has that path
    calls = []
    real = import_job._read_and_check
    monkeypatch.setattr(import_job, "_read_and_check", lambda split, *a: calls.append(len(split.bounds)) or real(split, *a))
    split_job = _import(world.grid1_user, data, "valid_rows")
    assert calls == [3]
    # ... so updates, as the same ID numbers are registered: same rows, same outcome per row.
    assert split_job.error_count == 2 and split_job.updated_count == 58
    assert [s.replace("更新", "新增") for s in statuses(split_job)] == whole_statuses
    assert [r[0] for r in report_rows(split_job)] == [r[0] for r in whole_report]  # the row numbers
    assert sorted(Resident.objects.filter(name__startswith="测试").values_list(
        "name", "birth_date", "household__house__room")) == made


def test_an_atomic_import_read_in_parts_rejects_a_bad_row_in_a_later_part(world, monkeypatch):
    monkeypatch.setattr(check, "WORKERS", 2)
    monkeypatch.setattr(importer, "SPLIT_MIN_BYTES", 0)
    rows = people(40, start=2000)
    rows[-1][1] = "12345"
    job = _import(world.grid1_user, sheet(rows), "atomic")
    assert job.status == "rejected" and job.error_count == 1
    assert Resident.objects.filter(name__startswith="测试").count() == 0
    s = statuses(job)
    assert s[-1].startswith("错误：身份证号") and all(x == "未导入（整批回滚）" for x in s[:-1])
