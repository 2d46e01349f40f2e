"""The mediation pages in a browser, desktop and phone, with the demo cases; screenshots go to
screenshots/ for a person to look at."""

import pathlib

import pytest

from conftest import browser_login
from mediation.models import Case

SHOTS = pathlib.Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def demo_cases(transactional_db):
    from mediation.demo import build_demo_cases
    from registry.demo import build_demo
    from workorders.models import Category, Kind

    build_demo(residents=400)
    group = Category.objects.create(kind=Kind.MEDIATION, code="mediation", name="矛盾纠纷调解", is_group=True)
    for code, name in (("med.family", "婚姻家庭纠纷"), ("med.neighbours", "邻里纠纷"), ("med.property", "物业纠纷"), ("med.labour", "劳动争议纠纷"), ("med.house", "房屋宅基地纠纷"), ("med.consumer", "消费纠纷")):
        Category.objects.create(parent=group, kind=Kind.MEDIATION, code=code, name=name)
    build_demo_cases()


def shot(pg, name):
    SHOTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"mediation-{name}.png"), full_page=True)


@pytest.mark.parametrize("device", ["page", "phone"])
def test_a_community_worker_works_through_the_pages(demo_cases, device, request):
    pg = request.getfixturevalue(device)
    suffix = "desktop" if device == "page" else "phone"
    browser_login(pg, "community1")
    pg.goto(pg.base_url + "/mediation/")
    assert pg.locator("#cases li").count() >= 5
    assert pg.locator(".med-due li.overdue").count() >= 1
    shot(pg, f"list-{suffix}")
    agreed = Case.objects.filter(outcome="agreement", terms__isnull=False, order__status="handled").first()
    pg.goto(pg.base_url + f"/mediation/{agreed.pk}/")
    assert pg.locator("#follow-ups li.overdue").count() >= 1
    assert "****" in pg.locator("#parties").inner_text()
    shot(pg, f"case-{suffix}")
    open_case = Case.objects.filter(order__status="in_progress").first()
    pg.goto(pg.base_url + f"/mediation/{open_case.pk}/")
    pg.click("#agreement summary")
    shot(pg, f"agreement-form-{suffix}")
    pg.goto(pg.base_url + f"/mediation/{agreed.pk}/agreement/print/")
    assert "人民调解协议书" in pg.content()
    shot(pg, f"print-{suffix}")
    pg.goto(pg.base_url + "/mediation/new/")
    shot(pg, f"new-{suffix}")
    pg.goto(pg.base_url + "/mediation/kpis/?period=year")
    pg.wait_for_function("document.querySelector('#med-chart canvas') !== null")
    shot(pg, f"kpis-{suffix}")


def test_a_street_officer_reads_the_figures_of_the_communities(demo_cases, page):
    browser_login(page, "street1")
    page.goto(page.base_url + "/mediation/kpis/?period=year")
    assert page.locator("#units tbody tr").count() >= 1
    page.goto(page.base_url + "/mediation/")
    assert page.locator("#cases li").count() >= 5
