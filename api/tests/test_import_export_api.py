import datetime as dt
import io

import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from python_calamine import CalamineWorkbook

from registry.models import ImportJob, Resident
from registry.services import idnumber

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet(rows) -> SimpleUploadedFile:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    for r, row in enumerate([["姓名", "身份证号", "小区", "楼栋", "单元", "房号", "与户主关系"], *rows]):
        for c, value in enumerate(row):
            ws.write_string(r, c, value)
    wb.close()
    return SimpleUploadedFile("台账.xlsx", buf.getvalue(), content_type=XLSX)


def _people():
    good = idnumber.make("320508", dt.date(1980, 1, 2), "M", 201)
    bad = idnumber.make("320508", dt.date(1981, 1, 2), "F", 202)
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")
    return [["陈一", good, "新村", "5", "1", "101", "户主"], ["陈二", bad, "新村", "5", "1", "102", "户主"]], good


def _read(content: bytes) -> list[list]:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return wb.get_sheet_by_index(0).to_python()


def test_an_import_takes_the_valid_rows_and_reports_the_others(world, bearer):
    api = bearer(world.grid1_user)
    rows, _good = _people()
    res = api.post("/api/registry/imports", {"file": _sheet(rows), "mode": "valid_rows", "region_id": world.grid1.pk})
    assert res.status_code == 202, res.content
    job = res.json()
    status = api.get(f"/api/registry/imports/{job['id']}").json()  # huey runs immediately under tests
    assert status["status"] == "done", status
    assert status["total"] == 2 and status["processed"] == 2
    assert status["created"] == 1 and status["errors"] == 1
    assert status["report_url"] == f"/api/registry/imports/{job['id']}/report"
    assert Resident.objects.filter(name="陈一", region=world.grid1).exists()
    assert not Resident.objects.filter(name="陈二").exists()
    report = api.get(status["report_url"])
    assert report.status_code == 200 and report["Content-Type"] == XLSX
    text = str(_read(b"".join(report.streaming_content)))
    assert "陈二" in text and "陈一" in text


def test_an_all_or_nothing_import_with_a_bad_row_changes_nothing(world, bearer):
    api = bearer(world.grid1_user)
    rows, _good = _people()
    before = Resident.objects.count()
    res = api.post("/api/registry/imports", {"file": _sheet(rows), "mode": "atomic"})
    assert res.status_code == 202
    status = api.get(f"/api/registry/imports/{res.json()['id']}").json()
    assert status["status"] == "rejected" and status["errors"] == 1 and status["created"] == 0
    assert Resident.objects.count() == before


def test_a_file_that_is_not_a_spreadsheet_is_refused(world, bearer):
    api = bearer(world.grid1_user)
    upload = SimpleUploadedFile("台账.xlsx", b"%PDF-1.4 not a sheet", content_type=XLSX)
    res = api.post("/api/registry/imports", {"file": upload, "mode": "atomic"})
    assert res.status_code == 400
    assert res.json()["code"].startswith("import_") and res.json()["field"] == "file"
    assert not ImportJob.objects.exists()


def test_a_missing_file_or_unknown_mode_is_422(world, bearer):
    api = bearer(world.grid1_user)
    assert api.post("/api/registry/imports", {"mode": "atomic"}).status_code == 422
    rows, _good = _people()
    res = api.post("/api/registry/imports", {"file": _sheet(rows), "mode": "sometimes"})
    assert res.status_code == 422 and res.json()["field"] == "mode"


def test_imports_are_scoped(world, bearer):
    rows, _good = _people()
    res = bearer(world.grid1_user).post("/api/registry/imports", {"file": _sheet(rows), "mode": "valid_rows"})
    job_id = res.json()["id"]
    other = bearer(world.grid2_user)
    assert other.get(f"/api/registry/imports/{job_id}").status_code == 404
    assert other.get(f"/api/registry/imports/{job_id}/report").status_code == 404
    res = other.post("/api/registry/imports", {"file": _sheet(rows), "region_id": world.grid1.pk})
    assert res.status_code == 404
    assert bearer(world.dept1).post("/api/registry/imports", {"file": _sheet(rows)}).status_code == 403


def test_export_holds_only_the_own_grid_and_masked_numbers(world, bearer):
    res = bearer(world.grid1_user).get("/api/registry/export")
    assert res.status_code == 200 and res["Content-Type"] == XLSX
    assert "attachment" in res["Content-Disposition"]
    rows = _read(b"".join(res.streaming_content))
    text = str(rows)
    assert {"张三", "赵敏", "周杰"} <= {str(c) for row in rows for c in row}
    for r in world.g2.residents + world.g3.residents:
        assert r.name not in text
    for r in world.g1.residents:
        assert r.reveal_id_number() not in text and r.id_number_masked in text


def test_export_takes_the_list_filters(world, bearer):
    res = bearer(world.community1).get("/api/registry/export", {"q": "zs"})
    names = {str(c) for row in _read(b"".join(res.streaming_content))[1:] for c in row[:1]}
    assert names == {"张三"}
    res = bearer(world.community1).get("/api/registry/export", {"region_id": world.grid2.pk})
    names = {str(row[0]) for row in _read(b"".join(res.streaming_content))[1:] if row and row[0]}
    assert names == {"李四", "钱芳", "吴刚"}


def test_export_outside_scope_or_without_permission_is_refused(world, bearer):
    assert bearer(world.grid1_user).get("/api/registry/export", {"region_id": world.grid2.pk}).status_code == 404
    res = bearer(world.dept1).get("/api/registry/export")
    assert res.status_code == 403 and res.json()["code"] == "forbidden"
