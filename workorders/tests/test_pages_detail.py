"""The order page: what it shows, the actions each user may take through it, the conflict
message on a stale version, scope (404) and refusals (403)."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from workorders import services as wo
from workorders.models import ApprovalRequest, Rating, Status, WorkOrder
from workorders.testing import make_categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cats(world):
    return make_categories(world)


def jpeg(name="p.jpg"):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def order(world, cats):
    return wo.report(world.resident1, category=cats["litter"], lat=31.305, lng=120.605, attributes={"amount": "large"},
                     reporter_phone="13812345678", description="楼下垃圾", files=[jpeg()])


def act(c, order, action, **data):
    order.refresh_from_db()
    data.setdefault("version", order.version)
    return c.post(reverse("workorders:act", args=[order.pk, action]), data)


def test_the_page_shows_header_deadline_place_masked_phone_attributes_map_and_photo(world, order, login):
    html = login(world.community1).get(reverse("workorders:detail", args=[order.pk])).content.decode()
    assert order.number in html and "暴露垃圾" in html and "第一网格" in html
    assert "138****5678" in html and "13812345678" not in html
    assert "垃圾量" in html and "大量" in html
    assert 'id="order-map"' in html and "order-point" in html
    att = order.attachments.get()
    assert reverse("workorders:thumbnail", args=[order.pk, att.pk]) in html
    assert 'name="version"' in html


@pytest.mark.parametrize("who,code", [("community1", 200), ("street1", 200), ("admin", 200), ("grid1_user", 200), ("resident1", 200),
                                      ("grid2_user", 404), ("dept1", 404)])
def test_who_may_open_the_page(world, order, login, who, code):
    assert login(getattr(world, who)).get(reverse("workorders:detail", args=[order.pk])).status_code == code


def test_an_order_outside_the_area_is_a_404_for_page_files_and_actions(world, cats, login):
    o = wo.report(world.grid1_user, category=cats["dispute"], source="grid", region=world.grid1, files=[jpeg()])
    c = login(_stranger(world))
    assert c.get(reverse("workorders:detail", args=[o.pk])).status_code == 404
    att = o.attachments.get()
    assert c.get(reverse("workorders:attachment", args=[o.pk, att.pk])).status_code == 404
    assert act(c, o, "file").status_code == 404
    o.refresh_from_db()
    assert o.status == Status.REPORTED


def _stranger(world):
    from accounts.models import Role
    from registry.testing import make_user

    return make_user("other_community", Role.COMMUNITY_WORKER, world.community2)


def test_the_attachment_is_served_to_who_may_see_the_order(world, order, login):
    att = order.attachments.get()
    r = login(world.community1).get(reverse("workorders:attachment", args=[order.pk, att.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"


def test_a_step_the_user_may_not_take_is_a_403_and_changes_nothing(world, order, login):
    # grid1's worker sees the order but is not its dispatcher
    assert act(login(world.grid1_user), order, "file").status_code == 403
    order.refresh_from_db()
    assert order.status == Status.REPORTED


def test_the_whole_loop_through_the_page(world, order, login):
    desk = login(world.community1)
    r = act(desk, order, "file", note="立案")
    assert r.status_code == 302
    assert act(desk, order, "dispatch", assignee=world.grid1_user.pk, note="请处理").status_code == 302
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED and order.assignee == world.grid1_user
    g = login(world.grid1_user)
    html = g.get(reverse("workorders:detail", args=[order.pk])).content.decode()
    assert "act/start/" in html and "act/handle/" in html and "act/file/" not in html
    act(g, order, "start")
    order.refresh_from_db()
    r = g.post(reverse("workorders:act", args=[order.pk, "handle"]), {"version": order.version, "note": "已清运", "files": [jpeg("after.jpg")]})
    order.refresh_from_db()
    assert order.status == Status.HANDLED and order.attachments.filter(role="after").count() == 1
    html = g.get(reverse("workorders:detail", args=[order.pk])).content.decode()
    assert "act/verify/" not in html  # the worker who handled it does not verify it
    desk = login(world.community1)
    act(desk, order, "verify", passed="0", note="还有一袋")
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS and order.rework_count == 1
    g = login(world.grid1_user)
    g.post(reverse("workorders:act", args=[order.pk, "handle"]), {"version": order.version, "note": "全部清走"})
    desk = login(world.community1)
    act(desk, order, "verify", passed="1")
    act(desk, order, "close", note="结案")
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    res = login(world.resident1)
    html = res.get(reverse("workorders:detail", args=[order.pk])).content.decode()
    assert "act/rate/" in html and "act/reopen/" in html and "act/confirm/" in html
    assert "138****5678" not in html  # the reporter's page does not repeat their own phone
    act(res, order, "confirm")
    act(res, order, "rate", score="4", comment="挺快")
    assert Rating.objects.get(order=order).score == 4
    html = res.get(reverse("workorders:detail", args=[order.pk])).content.decode()
    assert "act/rate/" not in html and "挺快" in html
    actions = list(order.transitions.values_list("action", flat=True))
    assert actions == ["report", "file", "dispatch", "start", "handle", "rework", "handle", "verify", "close", "confirm", "rate"]


def test_the_timeline_names_who_did_what(world, order, login):
    wo.file(world.community1, order, note="收到")
    html = login(world.community1).get(reverse("workorders:detail", args=[order.pk])).content.decode()
    assert "收到" in html and str(world.community1) in html and 'class="timeline"' in html


def test_a_stale_version_gets_the_conflict_message_not_a_500(world, order, login):
    c = login(world.community1)
    stale = order.version
    wo.file(world.street1, order)  # someone else acts first
    r = c.post(reverse("workorders:act", args=[order.pk, "void"]), {"version": stale, "note": "恶作剧"}, follow=True)
    assert r.status_code == 200
    html = r.content.decode()
    assert "conflict" in html and ("Someone else has just changed" in html or "刚刚" in html or "其他人" in html)
    order.refresh_from_db()
    assert order.status == Status.FILED


def test_a_refused_step_shows_the_reason_and_changes_nothing(world, order, login):
    r = act(login(world.community1), order, "void", note="")
    assert r.status_code == 302
    page = login(world.community1).get(r["Location"]).content.decode()
    assert "message error" in page
    order.refresh_from_db()
    assert order.status == Status.REPORTED


def test_void_and_mark_duplicate(world, cats, order, login):
    other = wo.report(world.resident1, category=cats["litter"], lat=31.305, lng=120.605, attributes={"amount": "small"})
    c = login(world.community1)
    act(c, other, "duplicate", of=order.number)
    other.refresh_from_db()
    assert other.status == Status.DUPLICATE and other.duplicate_of == order
    act(c, order, "void", note="已消失")
    order.refresh_from_db()
    assert order.status == Status.VOIDED


def test_extension_request_and_decision_and_suspension_resume(world, order, login):
    wo.file(world.community1, order)
    wo.dispatch(world.community1, order, assignee=world.grid1_user)
    g = login(world.grid1_user)
    act(g, order, "more_time", kind="extension", hours="24", reason="需要协调物业")
    req = ApprovalRequest.objects.get()
    html = login(world.community1).get(reverse("workorders:detail", args=[order.pk])).content.decode()
    assert "act/decide/" in html
    act(login(world.community1), order, "decide", request=req.pk, approve="1")
    req.refresh_from_db()
    order.refresh_from_db()
    assert req.status == "approved" and order.extension_count == 1
    act(login(world.grid1_user), order, "more_time", kind="suspension", reason="等待配件")
    req2 = ApprovalRequest.objects.filter(status="pending").get()
    act(login(world.community1), order, "decide", request=req2.pk, approve="1")
    order.refresh_from_db()
    assert order.status == Status.SUSPENDED
    act(login(world.community1), order, "resume")
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED


def test_a_grid_worker_escalates_to_the_community(world, cats, login):
    from workorders.models import RoutingRule

    RoutingRule.objects.create(category=cats["dispute"], region=world.community, region_path=world.community.path, level=5)
    o = wo.report(world.resident1, category=cats["dispute"], lat=31.305, lng=120.605)
    assert o.handler_region == world.grid1
    act(login(world.grid1_user), o, "escalate", note="调解不成")
    o.refresh_from_db()
    assert o.handler_region == world.community and o.escalation_count == 1


def test_the_reporter_may_reopen_within_seven_days_only(world, order, login):
    for step in ("file",):
        getattr(wo, step)(world.community1, order)
    wo.dispatch(world.community1, order, assignee=world.grid1_user)
    wo.handle(world.grid1_user, order, note="done")
    wo.verify(world.community1, order, passed=True)
    wo.close(world.community1, order)
    WorkOrder.objects.filter(pk=order.pk).update(closed_at=timezone.now() - dt.timedelta(days=8))
    html = login(world.resident1).get(reverse("workorders:detail", args=[order.pk])).content.decode()
    assert "act/reopen/" not in html
    act(login(world.resident1), order, "reopen", reason="又堆了")
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    WorkOrder.objects.filter(pk=order.pk).update(closed_at=timezone.now() - dt.timedelta(days=1))
    act(login(world.resident1), order, "reopen", reason="又堆了")
    order.refresh_from_db()
    assert order.status == Status.FILED


def test_an_unknown_action_is_a_404(world, order, login):
    assert act(login(world.community1), order, "explode").status_code == 404
