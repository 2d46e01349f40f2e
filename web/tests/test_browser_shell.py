import pytest

from conftest import browser_login


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_grid_worker_signs_in_on_a_phone(phone):
    from registry.testing import build_world

    build_world()
    phone.goto(phone.base_url + "/accounts/login/")
    phone.fill("input[name=username]", "grid1")
    phone.fill("input[name=password]", "wrong-password")
    phone.click("button[type=submit]")
    assert phone.locator(".form-errors").is_visible()
    assert phone.input_value("input[name=username]") == "grid1"

    browser_login(phone, "grid1")
    assert phone.url.rstrip("/") == phone.base_url
    assert phone.locator("h1").inner_text() == "第一网格"
    assert phone.locator(".tabbar").is_visible()
    assert not phone.locator(".mainnav").is_visible()
    # nothing sticks out of a 390-px screen; the search box takes a finger
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.locator(".search-box input[name=q]").bounding_box()
    assert box["height"] >= 44
    font = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 16


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_drills_down_the_tree_from_the_city_to_a_grid(page):
    from registry.testing import build_world

    build_world()
    browser_login(page, "admin")
    page.click(".mainnav >> text=区划")
    assert page.locator("h1").inner_text().startswith("苏州市")
    for name in ("姑苏区", "平江街道", "钮家巷社区", "第一网格"):
        page.click(f".tree-children >> text={name}")
        page.wait_for_load_state("domcontentloaded")
        assert page.locator("h1").inner_text().startswith(name)
    crumbs = page.locator(".breadcrumbs").inner_text()
    for name in ("苏州市", "姑苏区", "平江街道", "钮家巷社区"):
        assert name in crumbs
    assert page.locator(".outline svg path").count() == 1
    # back up one level through the breadcrumbs
    page.click(".breadcrumbs >> text=钮家巷社区")
    assert page.locator("h1").inner_text().startswith("钮家巷社区")
