"""Desks: the dispatch board (filters, keyset pages, bulk dispatch), my tasks, the department
inbox, the overdue board and notifications — each for each role."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from workorders import services as wo
from workorders.models import Notification, Source, Status, SupervisionNotice, WorkOrder
from workorders.testing import make_categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cats(world):
    return make_categories(world)


def _order(world, cats, grid=1, **extra):
    lat, lng = 31.305, 120.605 + 0.01 * (grid - 1)
    data = dict(category=cats["dispute"], lat=lat, lng=lng, description="楼上噪音")
    data.update(extra)
    return wo.report(world.resident1, **data)


def test_the_index_sends_each_role_to_its_desk(world, cats, login):
    assert login(world.community1).get(reverse("workorders:index"))["Location"] == reverse("workorders:board")
    assert login(world.grid1_user).get(reverse("workorders:index"))["Location"] == reverse("workorders:tasks")
    assert login(world.dept1).get(reverse("workorders:index"))["Location"] == reverse("workorders:inbox")
    assert login(world.resident1).get(reverse("workorders:index"))["Location"] == reverse("workorders:mine")


def test_the_board_shows_the_orders_of_the_area_only(world, cats, login):
    mine = _order(world, cats, grid=1, title="一号网格的事")
    other = _order(world, cats, grid=3, title="三号网格的事")
    html = login(world.community1).get(reverse("workorders:board")).content.decode()
    assert mine.title in html and other.title not in html
    html = login(world.street1).get(reverse("workorders:board")).content.decode()
    assert mine.title in html and other.title in html


@pytest.mark.parametrize("who", ["grid1_user", "resident1", "dept1"])
def test_the_board_is_forbidden_to_non_dispatchers(world, cats, login, who):
    assert login(getattr(world, who)).get(reverse("workorders:board")).status_code == 403


def test_the_board_filters_by_status_category_place_overdue_and_text(world, cats, login):
    a = _order(world, cats, grid=1, title="吵架")
    b = _order(world, cats, grid=2, title="漏水", category=cats["litter"], attributes={"amount": "small"})
    wo.file(world.community1, b)
    WorkOrder.objects.filter(pk=a.pk).update(overdue=True)
    c = login(world.community1)

    def titles(**q):
        html = c.get(reverse("workorders:board"), q).content.decode()
        return {t for t in ("吵架", "漏水") if f">{t}<" in html}

    assert titles() == {"吵架", "漏水"}
    assert titles(status="filed") == {"漏水"}
    assert titles(category=cats["litter"].pk) == {"漏水"}
    assert titles(category=cats["group"].pk) == {"吵架", "漏水"}
    assert titles(place=world.grid1.pk) == {"吵架"}
    assert titles(overdue="1") == {"吵架"}
    assert titles(q="漏") == {"漏水"}
    assert titles(q=a.number) == {"吵架"}


def test_the_board_refuses_a_place_outside_the_area(world, cats, login):
    assert login(world.community1).get(reverse("workorders:board"), {"place": world.grid3.pk}).status_code == 404


def test_the_board_pages_by_keyset_not_offset(world, cats, login, django_assert_max_num_queries):
    for i in range(55):
        _order(world, cats, grid=1, title=f"第{i:02d}件")
    c = login(world.community1)
    r = c.get(reverse("workorders:board"))
    html = r.content.decode()
    assert "第54件" in html and "第04件" not in html and "before=" in html
    last_on_page = WorkOrder.objects.order_by("-id")[49].pk
    html2 = c.get(reverse("workorders:board"), {"before": last_on_page}).content.decode()
    assert "第04件" in html2 and "第54件" not in html2
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        c.get(reverse("workorders:board"), {"before": last_on_page})
    assert not any("OFFSET" in q["sql"].upper() for q in ctx.captured_queries)


def test_bulk_dispatch_reports_each_order_and_one_bad_row_does_not_stop_the_others(world, cats, login):
    orders = [_order(world, cats, grid=1, title=f"件{i}") for i in range(3)]
    for o in orders:
        wo.file(world.community1, o)
    not_filed = _order(world, cats, grid=1, title="未立案")  # still reported: dispatch refuses it
    outside = _order(world, cats, grid=3, title="外区")
    r = login(world.community1).post(reverse("workorders:bulk_dispatch"), {
        "ids": [orders[0].pk, not_filed.pk, orders[1].pk, outside.pk, orders[2].pk], "assignee": world.grid1_user.pk,
    })
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count("bad-row") == 2 and html.count("ok-row") == 3
    for o in orders:
        o.refresh_from_db()
        assert o.status == Status.DISPATCHED and o.assignee == world.grid1_user
    not_filed.refresh_from_db()
    outside.refresh_from_db()
    assert not_filed.status == Status.REPORTED and outside.status == Status.REPORTED


def test_bulk_dispatch_to_someone_outside_the_place_is_refused_per_order(world, cats, login):
    o = _order(world, cats, grid=1)
    wo.file(world.community1, o)
    r = login(world.community1).post(reverse("workorders:bulk_dispatch"), {"ids": [o.pk], "assignee": world.grid2_user.pk})
    assert "bad-row" in r.content.decode()
    o.refresh_from_db()
    assert o.status == Status.FILED


def test_bulk_dispatch_without_a_handler_changes_nothing(world, cats, login):
    o = _order(world, cats, grid=1)
    wo.file(world.community1, o)
    r = login(world.community1).post(reverse("workorders:bulk_dispatch"), {"ids": [o.pk]})
    assert r.status_code == 302
    o.refresh_from_db()
    assert o.status == Status.FILED


def test_bulk_dispatch_is_forbidden_to_a_grid_worker(world, cats, login):
    assert login(world.grid1_user).post(reverse("workorders:bulk_dispatch"), {"ids": [1]}).status_code == 403


def test_my_tasks_lists_mine_my_grids_desk_and_what_to_verify(world, cats, login):
    given = _order(world, cats, grid=1, title="派给我的")
    wo.file(world.community1, given)
    wo.dispatch(world.community1, given, assignee=world.grid1_user)
    handled = _order(world, cats, grid=1, title="待核查的")
    wo.file(world.community1, handled)
    wo.dispatch(world.community1, handled, assignee=world.community1)
    wo.handle(world.community1, handled, note="已处理")
    elsewhere = _order(world, cats, grid=3, title="别处的")
    c = login(world.grid1_user)
    html = c.get(reverse("workorders:tasks")).content.decode()
    assert "派给我的" in html and "待核查的" in html and elsewhere.title not in html
    assert "别处的" not in login(world.grid2_user).get(reverse("workorders:tasks")).content.decode()


def test_my_tasks_is_forbidden_to_a_resident(world, cats, login):
    assert login(world.resident1).get(reverse("workorders:tasks")).status_code == 403


def test_the_department_inbox_shows_only_its_departments_orders(world, cats, login):
    road = wo.report(world.resident1, category=cats["road"], lat=31.305, lng=120.605, title="路面塌陷")
    _order(world, cats, grid=1, title="不是我们的")
    html = login(world.dept_roads).get(reverse("workorders:inbox")).content.decode()
    assert road.title in html and "不是我们的" not in html
    assert login(world.community1).get(reverse("workorders:inbox")).status_code == 403


def test_the_overdue_board_lists_overdue_orders_and_notices_oldest_first(world, cats, login):
    old = _order(world, cats, grid=1, title="最早超期")
    new = _order(world, cats, grid=1, title="后来超期")
    now = timezone.now()
    WorkOrder.objects.filter(pk=old.pk).update(due_at=now - dt.timedelta(hours=5))
    WorkOrder.objects.filter(pk=new.pk).update(due_at=now - dt.timedelta(hours=1))
    wo.check_deadlines(now)
    assert SupervisionNotice.objects.count() == 2
    html = login(world.street1).get(reverse("workorders:overdue")).content.decode()
    assert html.index("最早超期") < html.index("后来超期")
    assert "overdue by" in html or "超期" in html
    assert login(world.grid1_user).get(reverse("workorders:overdue")).status_code == 403
    html3 = login(world.community1).get(reverse("workorders:overdue")).content.decode()
    assert "最早超期" in html3


def test_notifications_list_mark_read_and_the_bell_counts(world, cats, login):
    _order(world, cats, grid=1, title="新工单")
    c = login(world.community1)
    n = Notification.objects.filter(user=world.community1).count()
    assert n >= 1
    html = c.get(reverse("workorders:notifications")).content.decode()
    assert "新工单" in html and 'class="bell-count"' in html
    note = Notification.objects.filter(user=world.community1).first()
    r = c.post(reverse("workorders:notification_open", args=[note.pk]))
    assert r["Location"] == reverse("workorders:detail", args=[note.order_id])
    note.refresh_from_db()
    assert note.read_at is not None
    c.post(reverse("workorders:notifications"))
    assert not Notification.objects.filter(user=world.community1, read_at__isnull=True).exists()
    assert 'class="bell-count"' not in c.get(reverse("workorders:notifications")).content.decode()


def test_someone_elses_notification_is_a_404(world, cats, login):
    _order(world, cats, grid=1)
    note = Notification.objects.filter(user=world.community1).first()
    assert login(world.grid2_user).post(reverse("workorders:notification_open", args=[note.pk])).status_code == 404


def test_a_grid_worker_source_is_shown(world, cats, login):
    o = wo.report(world.grid1_user, category=cats["dispute"], source=Source.GRID, region=world.grid1)
    assert o.get_source_display() in login(world.community1).get(reverse("workorders:board")).content.decode()


def test_desk_rows_escape_what_people_typed(world, cats, login):
    """The rows are built as HTML in the view: titles and addresses stay text."""
    o = _order(world, cats, grid=1, title="<b>粗体</b>&", address="<i>斜体</i>")
    WorkOrder.objects.filter(pk=o.pk).update(overdue=True, due_at=timezone.now() - dt.timedelta(hours=2))
    pages = [
        login(world.community1).get(reverse("workorders:board")).content.decode(),
        login(world.street1).get(reverse("workorders:overdue")).content.decode(),
    ]
    for html in pages:
        assert "&lt;b&gt;粗体&lt;/b&gt;&amp;" in html and "<b>粗体" not in html
        assert "<i>斜体" not in html
    assert "&lt;i&gt;斜体&lt;/i&gt;" in pages[0]
