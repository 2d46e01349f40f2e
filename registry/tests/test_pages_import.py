"""Import pages: template download, upload with mode and target, job page with progress,
counts, refused rows and the row report."""

import datetime as dt
import io

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry.models import ImportJob, Resident
from registry.services import idnumber

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def url(name, *args):
    return reverse(f"registry:{name}", args=args)


def sheet(rows) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    for i, row in enumerate([["姓名", "身份证号", "联系电话", "小区", "楼栋", "单元", "房号", "与户主关系"], *rows]):
        for j, value in enumerate(row):
            ws.write_string(i, j, str(value))
    wb.close()
    return buf.getvalue()


GOOD = idnumber.make("320508", dt.date(1971, 6, 1), "M", 450)
GOOD2 = idnumber.make("320508", dt.date(1973, 8, 9), "F", 451)
BAD = GOOD2[:-1] + ("1" if GOOD2[-1] != "1" else "2")


def one_bad_row() -> bytes:
    return sheet([
        ["陈国庆", GOOD, "13855556666", "新村", "5", "1", "301", "户主"],
        ["许丽", BAD, "", "新村", "5", "1", "302", "户主"],
    ])


def test_template_download(world, login):
    resp = login(world.grid1_user).get(url("import_template"))
    assert resp.status_code == 200 and resp["Content-Type"] == XLSX
    assert resp.content[:2] == b"PK" and "attachment" in resp["Content-Disposition"]


def test_valid_rows_mode_takes_the_good_row_and_reports_the_bad_one(world, login):
    c = login(world.grid1_user)
    resp = c.post(url("import"), {"file": SimpleUploadedFile("台账.xlsx", one_bad_row(), XLSX), "mode": "valid_rows",
                                  "region": world.grid1.pk})
    job = ImportJob.objects.get()
    assert resp.status_code == 302 and resp["Location"] == url("import_job", job.pk)
    assert (job.status, job.created_count, job.error_count) == ("done", 1, 1)
    assert Resident.objects.filter(name="陈国庆", region=world.grid1).exists()
    assert not Resident.objects.filter(name="许丽").exists()
    body = c.get(url("import_job", job.pk)).content.decode()
    assert 'id="refused-rows"' in body and "许丽" in body and "错误" in body and "陈国庆" not in body.split('id="refused-rows"')[1]
    assert BAD not in body and BAD[:4] + "**********" + BAD[-4:] in body  # masked on the page
    assert 'hx-trigger="every 1s"' not in body  # finished: no more polling
    assert url("import_report", job.pk) in body
    report = c.get(url("import_report", job.pk))
    assert report.status_code == 200 and b"".join(report.streaming_content)[:2] == b"PK"
    assert "台账.xlsx" in c.get(url("import")).content.decode()  # recent jobs


def test_all_or_nothing_mode_changes_nothing(world, login):
    before = Resident.objects.count()
    c = login(world.grid1_user)
    c.post(url("import"), {"file": SimpleUploadedFile("台账.xlsx", one_bad_row(), XLSX), "mode": "atomic", "region": world.grid1.pk})
    job = ImportJob.objects.get()
    assert job.status == "rejected" and Resident.objects.count() == before
    body = c.get(url("import_job", job.pk)).content.decode()
    assert "许丽" in body and "未导入" in body


def test_a_running_job_page_polls_and_shows_progress(world, login):
    job = ImportJob.objects.create(created_by=world.grid1_user, region=world.grid1, region_path=world.grid1.path,
                                   original_name="大表.xlsx", status="running", total_rows=200, processed_rows=50)
    c = login(world.grid1_user)
    body = c.get(url("import_job", job.pk)).content.decode()
    assert 'hx-trigger="every 1s"' in body and "width:25%" in body
    partial = c.get(url("import_job", job.pk), HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="job-status"') and "<html" not in partial


def test_an_upload_that_is_not_a_spreadsheet_shows_the_message(world, login):
    resp = login(world.grid1_user).post(url("import"), {"file": SimpleUploadedFile("x.xlsx", b"%PDF-1.4 not a sheet", XLSX),
                                                        "mode": "atomic", "region": world.grid1.pk})
    body = resp.content.decode()
    assert resp.status_code == 200 and 'class="form-errors"' in body and "文件不是 Excel 工作簿" in body
    assert not ImportJob.objects.exists()


def test_import_into_a_place_outside_the_area_is_refused(world, login):
    resp = login(world.grid1_user).post(url("import"), {"file": SimpleUploadedFile("t.xlsx", one_bad_row(), XLSX),
                                                        "mode": "valid_rows", "region": world.grid2.pk})
    assert resp.status_code == 200 and "field-error" in resp.content.decode()
    assert not ImportJob.objects.exists()


def test_jobs_of_another_grid_are_not_found_and_others_get_403(world, login):
    job = ImportJob.objects.create(created_by=world.grid2_user, region=world.grid2, region_path=world.grid2.path,
                                   original_name="二网格.xlsx", status="done")
    c = login(world.grid1_user)
    assert c.get(url("import_job", job.pk)).status_code == 404
    assert "二网格.xlsx" not in c.get(url("import")).content.decode()
    assert login(world.dept1).get(url("import")).status_code == 403


def test_a_job_whose_rows_are_all_checked_says_it_is_saving(world, client, settings, tmp_path):
    from django.core.files.base import ContentFile

    from registry.models import ImportJob

    settings.MEDIA_ROOT = tmp_path
    job = ImportJob(created_by=world.grid1_user, original_name="t.xlsx", status="running", total_rows=300, processed_rows=300)
    job.set_region(world.grid1)
    job.file.save("t.xlsx", ContentFile(b"PK"), save=False)
    job.save()
    client.force_login(world.grid1_user)
    page = client.get(f"/registry/import/{job.pk}/").content.decode()
    assert "300 行已全部校验，正在写入台账" in page and 'hx-trigger="every 1s"' in page
