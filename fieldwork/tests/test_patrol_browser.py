"""A grid worker walks a patrol on a phone with a fake location, ends it and sees the route."""

import datetime as dt
import os
import time
from pathlib import Path

import pytest
from django.utils import timezone

from conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LINLI_SHOTS", "/tmp/fw/shots"))
LAT, LNG = 31.3032, 120.6031


def _shoot(pg, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"patrol-{name}.png"), full_page=True)
    assert pg.evaluate("document.documentElement.scrollWidth") <= pg.viewport_size["width"] + 1, name


def _eventually(read, tries=40):
    """read() once the live server's thread lets go of the SQLite tables (shared in-memory test
    database: a read during its write answers "table is locked")."""
    from django.db import OperationalError

    for _ in range(tries):
        try:
            value = read()
        except OperationalError:
            value = None
        if value:
            return value
        time.sleep(0.25)
    return value


def _yesterday(w):
    """Some history for the week list and the daily table."""
    from fieldwork.services import patrols

    day = timezone.localdate() - dt.timedelta(days=1)
    for user, hour, minutes in ((w.grid1_user, 8, 150), (w.grid1_user, 14, 100), (w.grid2_user, 9, 130)):
        start = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
        p = patrols.start_patrol(user, started_at=start)
        lng0 = 120.603 if user == w.grid1_user else 120.613
        patrols.add_points(user, p, [
            {"at": (start + dt.timedelta(minutes=5 * i)).isoformat(), "lat": 31.302 + 0.0004 * i, "lng": lng0 + 0.0003 * (i % 7), "accuracy": 8}
            for i in range(minutes // 5)
        ])
        patrols.end_patrol(user, p, ended_at=start + dt.timedelta(minutes=minutes))


def test_a_grid_worker_walks_a_patrol_on_the_phone_and_sees_the_route(browser, live_server):
    from fieldwork.models import Patrol, PatrolStatus
    from registry.testing import build_world

    w = build_world()
    _yesterday(w)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation({"latitude": LAT, "longitude": LNG, "accuracy": 10})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.base_url = live_server.url
    try:
        browser_login(pg, "grid1")
        pg.goto(live_server.url + "/fieldwork/patrols/")
        pg.wait_for_load_state("networkidle")
        _shoot(pg, "phone-idle")
        pg.click("#start-btn")
        pg.wait_for_selector("#end-btn", state="visible")
        # Walk north at a brisk pace (11 m every 2 s): the phone reports three more fixes.
        for i in range(1, 4):
            pg.wait_for_timeout(2000)
            context.set_geolocation({"latitude": LAT + 0.0001 * i, "longitude": LNG, "accuracy": 12})
        pg.wait_for_function("document.getElementById('patrol-stats').textContent.indexOf('4') === 0")
        patrol = _eventually(lambda: Patrol.objects.filter(worker=w.grid1_user, status=PatrolStatus.ACTIVE).first())
        assert patrol.client_key
        _shoot(pg, "phone-active")
        pg.click("#end-btn")
        pg.wait_for_url(f"**/fieldwork/patrols/{patrol.pk}/", timeout=20_000)
        pg.wait_for_selector("#route-map .leaflet-interactive", state="attached")
        patrol.refresh_from_db()
        assert patrol.status == PatrolStatus.ENDED
        assert patrol.point_count == 4 and 28 <= patrol.distance_m <= 38
        assert pg.locator(".kv.stats").inner_text().count(str(patrol.point_count)) >= 1
        # The grid boundary and the route are drawn (no tiles are fetched).
        assert pg.locator("#route-map path.leaflet-interactive").count() >= 1
        assert pg.locator("#route-map .leaflet-tile").count() == 0
        _shoot(pg, "phone-route")
        pg.goto(live_server.url + "/fieldwork/patrols/")
        pg.wait_for_load_state("networkidle")
        assert pg.locator("#start-btn").is_visible()
        _shoot(pg, "phone-after")
    finally:
        context.close()


def test_the_route_and_the_daily_table_on_a_desktop(page, live_server):
    from fieldwork.models import Patrol
    from registry.testing import build_world

    w = build_world()
    _yesterday(w)
    browser_login(page, "community1")
    p = Patrol.objects.filter(worker=w.grid1_user).order_by("-started_at").first()
    page.goto(live_server.url + f"/fieldwork/patrols/{p.pk}/")
    page.wait_for_selector("#route-map .leaflet-interactive", state="attached")
    _shoot(page, "desktop-route")
    page.goto(live_server.url + "/fieldwork/patrols/daily/")
    page.wait_for_load_state("networkidle")
    assert page.locator("table.table tbody tr").count() == 14  # two workers, seven days
    _shoot(page, "desktop-daily")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_load_state("networkidle")
    _shoot(page, "phone-daily")


def test_the_patrol_page_on_a_desktop_while_on_patrol(page, live_server):
    from fieldwork.services import patrols
    from registry.testing import build_world

    w = build_world()
    _yesterday(w)
    start = timezone.now() - dt.timedelta(minutes=40)
    p = patrols.start_patrol(w.grid1_user, started_at=start, client_key="desk")
    patrols.add_points(w.grid1_user, p, [
        {"at": (start + dt.timedelta(minutes=2 * i)).isoformat(), "lat": 31.3025 + 0.0002 * i, "lng": 120.6035 + 0.00015 * (i % 5), "accuracy": 9}
        for i in range(18)
    ])
    browser_login(page, "grid1")
    page.goto(live_server.url + "/fieldwork/patrols/")
    page.wait_for_selector("#patrol-map path.leaflet-interactive", state="attached")
    assert page.locator("#end-btn").is_visible() and not page.locator("#start-btn").is_visible()
    assert page.locator("#patrol-stats").inner_text().startswith("18")
    _shoot(page, "desktop-active")


def test_a_patrol_walked_with_no_signal_reaches_the_server_once_when_the_signal_returns(browser, live_server):
    from fieldwork.models import Patrol, PatrolPoint, PatrolStatus
    from registry.testing import build_world

    w = build_world()
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation({"latitude": LAT, "longitude": LNG, "accuracy": 10})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.base_url = live_server.url
    try:
        browser_login(pg, "grid1")
        pg.goto(live_server.url + "/fieldwork/patrols/")
        pg.wait_for_load_state("networkidle")
        context.set_offline(True)
        pg.click("#start-btn")
        pg.wait_for_selector("#end-btn", state="visible")
        for i in range(1, 3):
            pg.wait_for_timeout(2000)
            context.set_geolocation({"latitude": LAT + 0.0001 * i, "longitude": LNG, "accuracy": 12})
        pg.wait_for_function("document.getElementById('patrol-stats').textContent.indexOf('3') === 0")
        pg.click("#end-btn")
        pg.wait_for_function("document.getElementById('patrol-status').textContent.indexOf('联网后') >= 0"
                             " || document.getElementById('patrol-status').textContent.indexOf('connection returns') >= 0")
        assert _eventually(lambda: "some" if Patrol.objects.filter(worker=w.grid1_user).exists() else "none") == "none"
        context.set_offline(False)
        pg.wait_for_function("window.LinliQueue.pending().then(function (n) { return n === 0; })", timeout=20_000)
        assert pg.evaluate("window.LinliQueue.refused()") == []
        patrol = _eventually(lambda: Patrol.objects.filter(worker=w.grid1_user, status=PatrolStatus.ENDED).first())
        assert patrol.point_count == 3
        assert PatrolPoint.objects.filter(patrol=patrol).count() == 3
        # Reloading and flushing again (a replay) changes nothing.
        pg.reload()
        pg.wait_for_load_state("networkidle")
        assert Patrol.objects.filter(worker=w.grid1_user).count() == 1
        assert pg.locator("#start-btn").is_visible()
    finally:
        context.close()
