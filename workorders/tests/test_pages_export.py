"""Excel exports: any desk as filtered and the problem ledger — scoped to the user's area,
phones masked, formulas neutralised."""

import io

import pytest
from django.urls import reverse
from python_calamine import CalamineWorkbook

from workorders import services as wo
from workorders.testing import make_categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cats(world):
    return make_categories(world)


def rows(response):
    data = b"".join(response.streaming_content)
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return book.get_sheet_by_index(0).to_python()


@pytest.fixture
def orders(world, cats):
    a = wo.report(world.resident1, category=cats["dispute"], lat=31.305, lng=120.605, title="一网格纠纷", reporter_phone="13812345678")
    b = wo.report(world.resident1, category=cats["dispute"], lat=31.305, lng=120.625, title="=HYPERLINK(\"x\")")
    return a, b


def test_the_board_export_is_the_filtered_board_of_the_area(world, orders, login):
    r = login(world.community1).get(reverse("workorders:export", args=["board"]))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = rows(r)
    assert sheet[0][0] == "工单编号"
    titles = [row[2] for row in sheet[1:]]
    assert titles == ["一网格纠纷"]  # grid3's order belongs to another community
    street = rows(login(world.street1).get(reverse("workorders:export", args=["board"]), {"q": "HYPERLINK"}))
    assert [row[2] for row in street[1:]] == ["'=HYPERLINK(\"x\")"]


def test_the_ledger_masks_the_phone_and_stays_in_the_area(world, orders, login):
    c = login(world.community1)
    assert c.get(reverse("workorders:ledger")).status_code == 200
    sheet = rows(c.get(reverse("workorders:export", args=["ledger"])))
    header = sheet[0]
    assert "联系电话(脱敏)" in header
    body = sheet[1:]
    assert len(body) == 1
    phone = body[0][header.index("联系电话(脱敏)")]
    assert phone == "138****5678"
    assert all("13812345678" not in str(cell) for row in sheet for cell in row)


def test_the_ledger_of_a_place_outside_the_area_is_a_404(world, orders, login):
    assert login(world.community1).get(reverse("workorders:export", args=["ledger"]), {"place": world.grid3.pk}).status_code == 404


def test_the_ledger_period_filters_by_report_date(world, orders, login):
    sheet = rows(login(world.street1).get(reverse("workorders:export", args=["ledger"]), {"from": "2001-01-01", "to": "2001-12-31"}))
    assert len(sheet) == 1


@pytest.mark.parametrize("which,who,code", [
    ("board", "grid1_user", 403), ("board", "resident1", 403), ("overdue", "street1", 200), ("overdue", "dept1", 403),
    ("inbox", "dept1", 200), ("inbox", "community1", 403), ("tasks", "grid1_user", 200), ("tasks", "resident1", 403),
    ("ledger", "resident1", 403), ("nothing", "community1", 404),
])
def test_who_may_export_what(world, orders, login, which, who, code):
    assert login(getattr(world, who)).get(reverse("workorders:export", args=[which])).status_code == code


def test_my_tasks_export_holds_only_my_tasks(world, cats, orders, login):
    a, _b = orders
    wo.file(world.community1, a)
    wo.dispatch(world.community1, a, assignee=world.grid1_user)
    sheet = rows(login(world.grid1_user).get(reverse("workorders:export", args=["tasks"])))
    assert [row[2] for row in sheet[1:]] == ["一网格纠纷"]
    assert len(rows(login(world.grid2_user).get(reverse("workorders:export", args=["tasks"])))) == 1
