"""The registry pages in Chromium: a grid worker's drill-down on a phone, live search, the
reveal flow, and an import that keeps the valid rows and reports the bad one."""

import datetime as dt

import pytest
import xlsxwriter

from conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_grid_worker_drills_down_from_buildings_to_a_resident_on_a_phone(phone):
    from registry.testing import build_world

    w = build_world()
    browser_login(phone, "grid1")
    phone.goto(phone.base_url + "/registry/buildings/")
    phone.click("#buildings a")
    phone.wait_for_selector("h1:has-text('测试小区11号楼')")
    phone.click("a:has-text('101 室')")
    phone.click("#households a")
    phone.wait_for_selector("#members")
    assert phone.locator("#members").inner_text().count("3205") == 2  # masked ID numbers of both members
    phone.click("#members a:has-text('张三')")
    phone.wait_for_selector("h1:has-text('张三')")
    assert w.g1.residents[0].id_number_masked in phone.inner_text("#resident-facts")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert "李四" not in phone.content()


def test_live_search_updates_the_list_while_typing(page):
    from registry.testing import build_world

    build_world()
    browser_login(page, "grid1")
    page.goto(page.base_url + "/registry/residents/")
    assert "张三" in page.inner_text("#results")
    page.type("#q", "zhou", delay=30)
    page.wait_for_function("!document.querySelector('#results').innerText.includes('张三')")
    assert "周杰" in page.inner_text("#results")
    assert "q=zhou" in page.url  # the search is in the address bar


def test_reveal_shows_the_full_id_number_and_logs_the_access(page):
    from accounts.models import PersonalDataAccess
    from registry.testing import build_world

    w = build_world()
    r = w.g1.residents[0]
    browser_login(page, "grid1")
    page.goto(page.base_url + f"/registry/residents/{r.pk}/")
    assert r.id_number_masked in page.inner_text("#resident-facts")
    assert r.reveal_id_number() not in page.content()
    page.click("button[data-reveal=id_number]")
    page.wait_for_selector(".revealed-value")
    assert page.inner_text(".revealed-value") == r.reveal_id_number()
    assert "已记入访问记录" in page.inner_text(".revealed")
    access = PersonalDataAccess.objects.get()
    assert (access.user.username, access.resident_id, access.field) == ("grid1", r.pk, "id_number")


def _sheet(path):
    from registry.services import idnumber

    good = idnumber.make("320508", dt.date(1971, 6, 1), "M", 450)
    bad = idnumber.make("320508", dt.date(1973, 8, 9), "F", 451)
    bad = bad[:-1] + ("1" if bad[-1] != "1" else "2")
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    rows = [["姓名", "身份证号", "小区", "楼栋", "单元", "房号", "与户主关系"],
            ["陈国庆", good, "新村", "5", "1", "301", "户主"],
            ["许丽", bad, "新村", "5", "1", "302", "户主"]]
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            ws.write_string(i, j, value)
    wb.close()


def test_import_takes_the_valid_rows_and_shows_the_refused_one(page, settings, tmp_path):
    from registry.models import Resident
    from registry.testing import build_world

    settings.MEDIA_ROOT = tmp_path / "media"
    w = build_world()
    path = tmp_path / "台账.xlsx"
    _sheet(path)
    browser_login(page, "grid1")
    page.goto(page.base_url + "/registry/import/")
    page.set_input_files("input[name=file]", str(path))
    page.check("input[name=mode][value=valid_rows]")
    page.select_option("select[name=region]", str(w.grid1.pk))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#job-status[data-status=done]")
    table = page.inner_text("#refused-rows")
    assert "许丽" in table and "错误" in table and "陈国庆" not in table
    assert page.inner_text("#job-counts").split()  # counts are shown
    assert page.locator("#report-link").count() == 1
    assert Resident.objects.filter(name="陈国庆").exists() and not Resident.objects.filter(name="许丽").exists()
