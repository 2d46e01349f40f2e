"""Ratings and the grid notice in Chromium: a resident rates on a phone with big stars, the public
notice opens on a phone without sign-in, the poster prints on A4 at a desk."""

import datetime as dt
import os

import pytest

from conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("LINLI_SHOTS", "/tmp/fw/shots")


def shot(pg, name, full_page=True):
    os.makedirs(SHOTS, exist_ok=True)
    pg.screenshot(path=os.path.join(SHOTS, name), full_page=full_page)


def _world_with_notice():
    from accounts.models import Role
    from fieldwork.services import evaluations as ev
    from registry.testing import add_person, build_world, make_user

    w = build_world()
    ev.update_notice(
        w.grid1_user, w.grid1, duties=str(ev.DEFAULT_DUTIES), commitment=str(ev.DEFAULT_COMMITMENT),
        service_hours="周一至周五 8:30–17:30，节假日值班", phone="13912345678",
    )
    w.grid1_user.display_name = "王晓梅"
    w.grid1_user.save()
    hh = w.g1.households[0]
    start = ev.previous_half(ev.half_start(dt.date.today()))
    for i, score in enumerate([5, 5, 4, 5, 4]):
        person = add_person(hh, "居民" + "甲乙丙丁戊"[i], dt.date(1960, 1, 1 + i), "F", 300 + i, relation="other")
        user = make_user(f"r{i}", Role.RESIDENT, w.grid1, resident=person)
        ev.rate(user, worker=w.grid1_user, score=score, comment="很耐心" if i == 0 else "", day=start + dt.timedelta(days=30))
    return w


def test_a_resident_rates_their_grid_worker_with_big_stars_on_a_phone(phone):
    from fieldwork.models import WorkerRating

    w = _world_with_notice()
    browser_login(phone, "resident1")
    phone.goto(phone.base_url + "/fieldwork/evaluate/")
    phone.wait_for_selector("h1")
    assert "王晓梅" in phone.inner_text("main")
    shot(phone, "evaluate-390.png")
    phone.click(f"label[for=s{w.grid1_user.pk}-4]")
    assert phone.is_visible(".say-4") and not phone.is_visible(".say-0")
    phone.fill(f"#comment-{w.grid1_user.pk}", "上门很及时，谢谢！")
    shot(phone, "evaluate-390-chosen.png")
    phone.click(f"#worker-{w.grid1_user.pk} button[type=submit]")
    phone.wait_for_selector(".rate-done")
    shot(phone, "evaluate-390-done.png")
    r = WorkerRating.objects.get(resident=w.g1.residents[2])
    assert (r.score, r.comment) == (4, "上门很及时，谢谢！")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_public_notice_opens_on_a_phone_without_sign_in(phone):
    from fieldwork.models import GridProfile

    _world_with_notice()
    p = GridProfile.objects.get()
    phone.goto(phone.base_url + f"/fieldwork/g/{p.slug}/")
    phone.wait_for_selector(".notice-hero")
    text = phone.inner_text("main")
    assert "第一网格" in text and "王晓梅" in text and "139****5678" in text and "13912345678" not in phone.content()
    assert phone.get_attribute("a.call", "href") == f"/fieldwork/g/{p.slug}/call"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "notice-public-390.png")


def test_the_poster_prints_on_a4_with_the_qr_code(page):
    from fieldwork.models import GridProfile

    _world_with_notice()
    p = GridProfile.objects.get()
    page.goto(page.base_url + f"/fieldwork/g/{p.slug}/print/")
    page.wait_for_selector(".poster svg.qr")
    box = page.locator(".poster svg.qr").bounding_box()
    assert box["width"] > 340 and abs(box["width"] - box["height"]) < 1  # 92 mm square
    shot(page, "notice-print-1280.png")
    page.emulate_media(media="print")
    assert not page.is_visible(".poster-bar")
    os.makedirs(SHOTS, exist_ok=True)
    pdf = page.pdf(path=os.path.join(SHOTS, "notice-print.pdf"), prefer_css_page_size=True, print_background=True)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1  # one A4 sheet
    page.emulate_media(media="screen")


def test_staff_see_the_results_and_the_notice_editor(page):
    from fieldwork.services import evaluations as ev

    w = _world_with_notice()
    ev.rate(w.resident1, worker=w.grid1_user, score=3, comment="希望多来走访")
    browser_login(page, "community1")
    page.goto(page.base_url + "/fieldwork/evaluations/")
    page.wait_for_selector("table")
    assert "王晓梅" in page.inner_text("table")
    shot(page, "evaluation-results-1280.png")
    page.goto(page.base_url + f"/fieldwork/notice/{w.grid1.pk}/edit/")
    page.wait_for_selector("img.qr-thumb")
    assert page.evaluate("document.querySelector('img.qr-thumb').naturalWidth") > 0
    shot(page, "notice-edit-1280.png")


def test_the_grid_worker_writes_the_notice_on_a_phone(phone):
    from fieldwork.models import GridProfile
    from registry.testing import build_world

    w = build_world()
    browser_login(phone, "grid1")
    phone.goto(phone.base_url + "/fieldwork/notice/")
    phone.click(f"a[href='/fieldwork/notice/{w.grid1.pk}/edit/']")
    phone.wait_for_selector("#duties")
    assert phone.input_value("#duties")  # the Jining duties offered as a start
    phone.fill("#phone", "12345")
    phone.click("form button[type=submit]")
    phone.wait_for_selector(".form-errors")
    assert not GridProfile.objects.exists()
    phone.fill("#phone", "139 1234 5678")
    phone.click("form button[type=submit]")
    phone.wait_for_selector("img.qr-thumb")
    assert GridProfile.objects.get().phone_masked == "139****5678"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "notice-edit-390.png")


def test_an_administrator_sets_the_rating_window(page):
    from registry.testing import build_world

    build_world()
    browser_login(page, "admin")
    page.goto(page.base_url + "/fieldwork/evaluations/rounds/")
    page.wait_for_selector("form input[type=date]")
    shot(page, "evaluation-rounds-1280.png")
