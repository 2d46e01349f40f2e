"""The one-window desk in a browser, on a phone: an application with a missing material gets
its printable one-time notice, and is accepted when the applicant comes back."""

import pytest

from conftest import browser_login
from workorders.models import Status, WorkOrder
from workorders.services.seed import seed_categories

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_community_worker_takes_an_application_on_a_phone(world, phone):
    seed_categories()
    browser_login(phone, "community1")
    phone.goto(phone.base_url + "/workorders/window/")
    phone.fill("#item-filter", "居住证明")
    phone.click("text=开具居住证明")
    phone.fill("#who", "张三")
    phone.locator("input[name=pick]").first.click()
    assert phone.locator("#picked-name").inner_text().startswith("张三")
    phone.locator("input[name=received]").first.check()
    phone.fill("input[name=attr_purpose]", "子女入学")
    phone.click("button[type=submit].big")
    phone.wait_for_load_state("networkidle")
    slip = phone.locator("#slip").inner_text()
    assert "户口簿" in slip and "房产证或租房合同" in slip and "张三" in slip
    order = WorkOrder.objects.get()
    assert order.status == Status.REPORTED

    phone.goto(phone.base_url + f"/workorders/window/{order.pk}/")
    for box in phone.locator("#accept input[name=received]").all():
        box.check()
    phone.click("#accept button.primary")
    phone.wait_for_load_state("networkidle")
    order.refresh_from_db()
    assert order.status == Status.FILED
    phone.click("#process button.primary")
    phone.wait_for_load_state("networkidle")
    phone.fill("#finish-note", "已开具居住证明")
    phone.click("#finish button.primary")
    phone.wait_for_load_state("networkidle")
    order.refresh_from_db()
    assert order.status == Status.CLOSED
