"""The grid worker's visit pages in Chromium on a phone (390×844) and a desktop: the due list,
the visit form (filled and sent), must-attend and the quick reports. Each must fit the phone's
width. Screenshots go to $LINLI_SHOTS (default /tmp/fw/shots) for a person to look at."""

import datetime as dt
import os
from pathlib import Path

import pytest

from conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LINLI_SHOTS", "/tmp/fw/shots"))


def _city():
    from fieldwork.services import dues
    from registry import services as reg
    from registry.testing import build_world
    from workorders import services as wo
    from workorders.models import Category, WorkOrder
    from workorders.services.seed import seed_categories

    w = build_world()
    seed_categories()
    b = w.g1.building
    for i, room in enumerate(["301", "302", "401", "402", "501"]):
        house = reg.create_house(None, building=b, unit=1 + i % 2, room=room)
        reg.create_household(None, house=house)
    reg.add_tag(None, w.g1.residents[0], "dibao")
    reg.add_tag(None, w.g1.residents[2], "empty_nest")
    dues.recompute_all()
    order = wo.report(w.resident1, category=Category.objects.get(code="incident.dispute"), region=w.grid1, title="楼上漏水引发邻里争吵",
                      description="502与402因漏水争吵", address="1号楼2单元")
    WorkOrder.objects.filter(pk=order.pk).update(reported_at=order.reported_at - dt.timedelta(minutes=25))
    return w


def _fits(pg):
    return pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_grid_worker_works_through_the_due_list_on_the_phone(phone):
    from fieldwork.models import Visit

    w = _city()
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg = phone
    browser_login(pg, "grid1")
    pg.goto(pg.base_url + "/fieldwork/due/")
    assert pg.locator("#overdue .fw-row").count() >= 1
    assert _fits(pg)
    pg.screenshot(path=str(SHOTS / "visits-due-phone.png"), full_page=True)

    pg.locator(".fw-row .fw-go").first.click()
    pg.wait_for_load_state("networkidle")
    assert pg.locator("form#visit-form[data-queue=visit]").count() == 1
    key = pg.locator("input[name=client_key]").input_value()
    assert len(key) >= 32  # a fresh UUID from visit.js
    assert _fits(pg)
    pg.screenshot(path=str(SHOTS / "visits-form-phone.png"), full_page=True)
    pg.locator("input[name=met]").first.check()
    pg.fill("#notes", "老人身体尚好，提醒冬季用电安全")
    pg.click("button.fw-submit")
    pg.wait_for_url("**/fieldwork/visits/*/?saved=1")
    assert Visit.objects.count() == 1 and Visit.objects.get().client_key == key
    pg.screenshot(path=str(SHOTS / "visits-saved-phone.png"), full_page=True)

    pg.goto(pg.base_url + "/fieldwork/attend/")
    assert pg.locator("text=楼上漏水引发邻里争吵").count() == 1
    assert _fits(pg)
    pg.screenshot(path=str(SHOTS / "visits-attend-phone.png"), full_page=True)
    pg.click("button[data-arrive]")
    pg.wait_for_load_state("networkidle")
    from fieldwork.models import Attendance

    assert Attendance.objects.count() == 1

    for form in ("hazard", "arrival"):
        pg.goto(pg.base_url + f"/fieldwork/report/{form}/")
        assert _fits(pg)
        pg.screenshot(path=str(SHOTS / f"visits-report-{form}-phone.png"), full_page=True)
    assert w.grid1


def test_the_desktop_pages_of_visits_and_rules(page):
    from fieldwork.services import record_visit

    w = _city()
    record_visit(w.grid1_user, household=w.g1.households[0], notes="例行走访，一切正常", met=[w.g1.residents[0].pk])
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser_login(page, "community1")
    page.goto(page.base_url + "/fieldwork/due/")
    page.screenshot(path=str(SHOTS / "visits-due-desktop.png"), full_page=True)
    page.goto(page.base_url + "/fieldwork/visits/")
    assert page.locator("text=例行走访，一切正常").count() == 1
    page.screenshot(path=str(SHOTS / "visits-list-desktop.png"), full_page=True)
    page.goto(page.base_url + f"/registry/households/{w.g1.households[0].pk}/")
    assert page.locator("#household-visits").count() == 1
    page.screenshot(path=str(SHOTS / "visits-household-desktop.png"), full_page=True)
    page.context.clear_cookies()
    browser_login(page, "admin")
    page.goto(page.base_url + "/fieldwork/rules/")
    page.screenshot(path=str(SHOTS / "visits-rules-desktop.png"), full_page=True)
