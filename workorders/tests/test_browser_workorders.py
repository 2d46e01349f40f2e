"""Work orders in Chromium on a phone: a resident reports with a map pick and a photo (and sees
the nearby-duplicate hint); a grid worker settles a matter on the spot with GPS."""


import pytest
from PIL import Image

from conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _photo(tmp_path, name="photo.jpg"):
    path = tmp_path / name
    Image.new("RGB", (640, 480), (90, 140, 60)).save(path, "JPEG")
    return str(path)


def _world():
    from registry.testing import build_world
    from workorders.testing import make_categories

    w = build_world()
    return w, make_categories(w)


def test_a_resident_reports_with_a_map_pick_and_a_photo_on_a_phone(phone, tmp_path):
    from workorders import services as wo
    from workorders.models import Status, WorkOrder

    w, cats = _world()
    # Reported earlier, 10 m from where the resident will tap: the page should say so.
    earlier = wo.report(w.grid2_user, category=cats["dispute"], source="grid", lat=31.305, lng=120.615, title="早先的纠纷")
    browser_login(phone, "resident1")
    phone.goto(phone.base_url + "/workorders/report/")
    phone.select_option("#category", label="邻里纠纷")
    phone.fill("#description", "楼上每晚装修到十一点")
    phone.set_input_files("#files", _photo(tmp_path))
    phone.wait_for_function("window.L !== undefined")
    # Tap the middle of the map (the street's three grids are drawn around it).
    phone.locator("#pick-map").click()
    phone.wait_for_function("document.getElementById('lat').value !== ''")
    lat = float(phone.input_value("#lat"))
    lng = float(phone.input_value("#lng"))
    assert 31.30 < lat < 31.31 and 120.60 < lng < 120.63
    # Move the point onto the earlier report; the hint appears.
    phone.evaluate("([a, b]) => { document.getElementById('lat').value = a; document.getElementById('lng').value = b; document.getElementById('category').dispatchEvent(new Event('change')); }", ["31.30505", "120.61502"])
    phone.wait_for_selector("#nearby :text('早先的纠纷')")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.click("form#report-form button.primary")
    phone.wait_for_selector(".wo-head")
    order = WorkOrder.objects.exclude(pk=earlier.pk).get()
    assert order.status == Status.REPORTED and order.reporter == w.resident1
    assert order.lat is not None and order.attachments.count() == 1
    assert order.number in phone.content()
    assert phone.locator(".thumbs img").count() >= 1


def test_a_grid_worker_settles_on_the_spot_with_gps_on_a_phone(phone, tmp_path):
    from workorders.models import Status, WorkOrder

    w, cats = _world()
    phone.context.grant_permissions(["geolocation"], origin=phone.base_url)
    phone.context.set_geolocation({"latitude": 31.3052, "longitude": 120.6051})
    browser_login(phone, "grid1")
    phone.goto(phone.base_url + "/workorders/tasks/")
    phone.click("a:has-text('就地解决'), a:has-text('Settle on the spot')")
    phone.wait_for_selector("#pick-map")
    phone.select_option("#category", label="暴露垃圾")
    phone.wait_for_selector("input[name='attribute[amount]']")
    phone.check("input[name='attribute[amount]'][value='small']")
    phone.fill("#note", "已和保洁一起清走")
    phone.set_input_files("#files", _photo(tmp_path, "before.jpg"))
    phone.set_input_files("#after_files", _photo(tmp_path, "after.jpg"))
    phone.click("#locate")
    phone.wait_for_function("document.getElementById('lat').value !== ''")
    assert abs(float(phone.input_value("#lat")) - 31.3052) < 1e-4
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.click("form#report-form button.primary")
    phone.wait_for_selector(".wo-head")
    order = WorkOrder.objects.get()
    assert order.status == Status.CLOSED and order.settled_on_spot and order.region == w.grid1
    assert set(order.attachments.values_list("role", flat=True)) == {"before", "after"}
    assert phone.locator(".photos img").count() == 2
