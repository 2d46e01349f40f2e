import datetime as dt

import pytest
from django.utils import timezone

from linli.errors import Conflict, DomainError, Forbidden
from workorders import services as wo
from workorders.models import Notification, Source, Status, SupervisionNotice, Transition, WorkOrder
from workorders.testing import make_categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cats(world):
    return make_categories(world)


def _report(world, cats, **extra):
    data = dict(category=cats["litter"], source=Source.PORTAL, description="楼下垃圾堆了三天", lat=31.305, lng=120.605, attributes={"amount": "large"})
    data.update(extra)
    return wo.report(world.resident1, **data)


def test_it_runs_the_closed_loop_and_records_every_step(world, cats):
    order = _report(world, cats)
    assert order.region == world.grid1 and order.handler_region == world.community
    assert order.status == Status.REPORTED and order.due_at is not None
    assert Notification.objects.filter(user=world.community1, order=order, verb="reported").exists()

    wo.file(world.community1, order)
    wo.dispatch(world.community1, order, assignee=world.grid1_user, note="请尽快处理")
    wo.start(world.grid1_user, order)
    wo.handle(world.grid1_user, order, note="已清运")
    wo.verify(world.community1, order, passed=True)
    order = wo.close(world.community1, order)

    assert order.status == Status.CLOSED and order.closed_at is not None
    steps = list(Transition.objects.filter(order=order).values_list("action", "from_status", "to_status"))
    assert steps == [
        ("report", "", "reported"),
        ("file", "reported", "filed"),
        ("dispatch", "filed", "dispatched"),
        ("start", "dispatched", "in_progress"),
        ("handle", "in_progress", "handled"),
        ("verify", "handled", "verified"),
        ("close", "verified", "closed"),
    ]
    assert not order.settled_in_grid  # handled at the community's desk

    wo.rate(world.resident1, order, score=5, comment="很快")
    with pytest.raises(Conflict):
        wo.rate(world.resident1, order, score=4)


def test_failed_verification_sends_it_back_for_rework(world, cats):
    order = _report(world, cats)
    wo.file(world.community1, order)
    wo.dispatch(world.community1, order, assignee=world.grid1_user)
    wo.handle(world.grid1_user, order, note="已清运")
    order = wo.verify(world.community1, order, passed=False, note="还有两袋没清")
    assert order.status == Status.IN_PROGRESS and order.rework_count == 1 and order.stage == "handle"


def test_a_step_not_allowed_from_the_current_status_is_refused_and_changes_nothing(world, cats):
    order = _report(world, cats)
    with pytest.raises(Conflict) as err:
        wo.close(world.community1, order)
    assert err.value.code == "transition_not_allowed"
    order.refresh_from_db()
    assert order.status == Status.REPORTED and order.version == 1
    assert Transition.objects.filter(order=order).count() == 1


def test_a_stale_version_is_a_conflict(world, cats):
    order = _report(world, cats)
    wo.file(world.community1, order, version=1)
    with pytest.raises(Conflict) as err:
        wo.void(world.community1, order, note="重复", version=1)
    assert err.value.code == "order_changed"
    assert "刚刚" in err.value.as_dict()["message"] or err.value.as_dict()["message_en"].startswith("Someone else")


def test_a_handler_outside_the_orders_area_is_refused(world, cats):
    order = _report(world, cats)
    wo.file(world.community1, order)
    with pytest.raises(DomainError) as err:
        wo.dispatch(world.community1, order, assignee=world.grid2_user)  # grid2's worker, order in grid1
    assert err.value.code == "handler_out_of_scope"
    order.refresh_from_db()
    assert order.status == Status.FILED and order.assignee is None


def test_only_the_holding_desk_dispatches(world, cats):
    order = _report(world, cats)
    with pytest.raises(Forbidden):
        wo.file(world.grid2_user, order)


def test_unknown_category_and_missing_attribute_are_refused(world, cats):
    with pytest.raises(DomainError) as err:
        _report(world, cats, category="no.such")
    assert err.value.code == "category_unknown"
    with pytest.raises(DomainError) as err:
        _report(world, cats, attributes={})
    assert err.value.code == "attribute_required" and "垃圾量" in err.value.as_dict()["message"]
    with pytest.raises(DomainError) as err:
        _report(world, cats, attributes={"amount": "huge"})
    assert err.value.code == "attribute_invalid"
    assert WorkOrder.objects.count() == 0


def test_a_location_outside_the_city_is_refused(world, cats):
    with pytest.raises(DomainError) as err:
        _report(world, cats, lat=39.9, lng=116.4)
    assert err.value.code == "location_outside"
    assert WorkOrder.objects.count() == 0


def test_a_grid_worker_settles_a_small_matter_in_one_step(world, cats):
    order = wo.settle_on_spot(world.grid1_user, category=cats["litter"], region=world.grid1, note="当场清理", attributes={"amount": "small"})
    assert order.status == Status.CLOSED and order.settled_on_spot and order.settled_in_grid
    assert [t.action for t in order.transitions.all()] == ["report", "settle_on_spot"]


def test_escalation_climbs_the_tree_to_a_department(world, cats):
    order = _report(world, cats)
    order = wo.escalate(world.community1, order, note="社区无法解决")
    assert order.handler_region == world.street and order.status == Status.FILED
    order = wo.escalate(world.street1, order, note="需要住建局", department="住建局")
    assert order.department == "住建局" and order.status == Status.DISPATCHED
    wo.handle(world.dept_roads, order, note="已修复")
    assert Notification.objects.filter(user=world.dept_roads, verb="escalated").exists()


def test_extension_and_suspension_need_the_dispatchers_approval(world, cats):
    order = _report(world, cats)
    wo.file(world.community1, order)
    order = wo.dispatch(world.community1, order, assignee=world.grid1_user)
    due, deadline = order.due_at, order.deadline
    req = wo.request_more_time(world.grid1_user, order, kind="extension", reason="等材料", hours=24)
    with pytest.raises(Forbidden):
        wo.decide(world.grid1_user, req, approve=True)
    wo.decide(world.community1, req, approve=True)
    order.refresh_from_db()
    assert order.due_at - due == dt.timedelta(hours=24) and order.deadline - deadline == dt.timedelta(hours=24)
    assert order.extension_count == 1

    req = wo.request_more_time(world.grid1_user, order, kind="suspension", reason="业主出国")
    wo.decide(world.community1, req, approve=True)
    order.refresh_from_db()
    assert order.status == Status.SUSPENDED and order.was_suspended
    order = wo.resume(world.community1, order)
    assert order.status == Status.DISPATCHED and order.due_at is not None


def test_the_deadline_timer_supervises_once_however_often_it_runs(world, cats):
    order = _report(world, cats)
    later = timezone.now() + dt.timedelta(hours=2)
    assert wo.check_deadlines(later) == {"warned": 0, "supervised": 1}
    assert wo.check_deadlines(later) == {"warned": 0, "supervised": 0}
    notice = SupervisionNotice.objects.get(order=order)
    assert notice.region == world.street  # the level above the community's desk
    order.refresh_from_db()
    assert order.overdue and order.supervision_count == 1


def test_the_reporter_can_reopen_within_seven_days_only(world, cats):
    order = wo.settle_on_spot(world.grid1_user, category=cats["litter"], region=world.grid1, note="当场清理", attributes={"amount": "small"})
    with pytest.raises(Forbidden):
        wo.reopen(world.resident1, order, reason="没有清理")  # not their report
    order = _report(world, cats)
    WorkOrder.objects.filter(pk=order.pk).update(status=Status.CLOSED, closed_at=timezone.now() - dt.timedelta(days=8))
    with pytest.raises(Conflict) as err:
        wo.reopen(world.resident1, order, reason="又堆起来了")
    assert err.value.code == "window_passed"
    WorkOrder.objects.filter(pk=order.pk).update(closed_at=timezone.now() - dt.timedelta(days=2))
    order = wo.reopen(world.resident1, order, reason="又堆起来了")
    assert order.status == Status.FILED and order.rework_count == 1


def test_a_dispatched_handler_gets_the_bell_an_email_and_a_text_message(world, cats, caplog, django_capture_on_commit_callbacks):
    from django.core import mail

    world.grid1_user.email = "grid1@example.org"
    world.grid1_user.save()
    order = _report(world, cats)
    wo.file(world.community1, order)
    with caplog.at_level("INFO", logger="linli.messages"), django_capture_on_commit_callbacks(execute=True):
        wo.dispatch(world.community1, order, assignee=world.grid1_user)
    assert Notification.objects.filter(user=world.grid1_user, verb="dispatched", read_at__isnull=True).exists()
    assert [m.to for m in mail.outbox] == [["grid1@example.org"]] and order.number in mail.outbox[0].subject
    assert any("sms to grid1" in r.getMessage() for r in caplog.records)


def test_a_desk_worker_given_or_losing_the_role_is_notified_from_the_next_report_on(world, cats):
    from accounts.models import Role, RoleAssignment
    from registry.testing import make_user

    _report(world, cats)  # the desk's holders are now kept in this process
    newcomer = make_user("community9", Role.COMMUNITY_WORKER, world.community)
    second = _report(world, cats)
    assert Notification.objects.filter(user=newcomer, order=second, verb="reported").exists()

    RoleAssignment.objects.filter(user=newcomer).delete()  # a queryset delete still signals each row
    third = _report(world, cats)
    assert not Notification.objects.filter(user=newcomer, order=third).exists()
    assert Notification.objects.filter(user=world.community1, order=third, verb="reported").exists()

    world.community1.is_active = False
    world.community1.save()
    fourth = _report(world, cats)
    assert not Notification.objects.filter(user=world.community1, order=fourth).exists()


def test_the_worker_who_handled_an_order_may_not_verify_it(world, cats):
    """GB/T 30428 keeps handling and verifying apart: the grid worker who reported the result is
    refused (and is not offered the step); the desk or another verifier checks it on site."""
    from workorders import access

    order = _report(world, cats)
    wo.file(world.community1, order)
    wo.dispatch(world.community1, order, assignee=world.grid1_user)
    wo.handle(world.grid1_user, order, note="已清运")
    order.refresh_from_db()
    assert not access.is_verifier(world.grid1_user, order) and access.is_verifier(world.community1, order)
    with pytest.raises(Forbidden) as err:
        wo.verify(world.grid1_user, order, passed=True)
    assert err.value.code == "verify_own_work"
    order.refresh_from_db()
    assert order.status == Status.HANDLED
    assert wo.verify(world.community1, order, passed=True).status == Status.VERIFIED


def test_a_notice_names_what_the_order_is_about_not_only_its_number(world, cats):
    order = _report(world, cats, title="楼道堆放垃圾")
    wo.file(world.community1, order)
    wo.dispatch(world.community1, order, assignee=world.grid1_user)
    wo.handle(world.grid1_user, order, note="已清运")
    wo.verify(world.community1, order, passed=True)
    wo.close(world.community1, order)
    closed = Notification.objects.get(user=world.resident1, order=order, verb="closed")
    assert closed.text.startswith("【楼道堆放垃圾】") and order.number in closed.text
    untitled = _report(world, cats, title="")
    wo.void(world.community1, untitled, note="重复")
    assert Notification.objects.get(user=world.resident1, order=untitled, verb="voided").text.startswith(f"【{cats['litter'].name}】")


def test_the_community_takes_on_a_residents_report_sent_to_the_street(world, cats):
    """小事不出网格，大事不出社区: a report routed to the street's desk can be taken on by the
    community of its place before the street dispatches it; the street's desk is told."""
    from workorders import access
    from workorders.models import RoutingRule

    RoutingRule.objects.create(category=cats["litter"], region=world.city, region_path=world.city.path, level=3)
    order = _report(world, cats)
    assert order.handler_region == world.street
    assert access.is_community_of(world.community1, order) and not access.is_dispatcher(world.community1, order)
    with pytest.raises(Forbidden):
        wo.take(world.grid1_user, order)
    order = wo.take(world.community1, order, note="社区能处理")
    assert order.handler_region == world.community and order.status == Status.REPORTED
    assert Transition.objects.filter(order=order, action="take").exists()
    assert Notification.objects.filter(user=world.street1, order=order, verb="taken").exists()
    assert access.is_dispatcher(world.community1, order)
    with pytest.raises(Conflict):
        wo.take(world.community1, order)  # at the community's desk already: nothing to take
    wo.file(world.community1, order)


def test_another_community_cannot_take_it_and_a_dispatched_order_stays(world, cats):
    from accounts.models import Role
    from accounts.testing import make_user
    from workorders.models import RoutingRule

    RoutingRule.objects.create(category=cats["litter"], region=world.city, region_path=world.city.path, level=3)
    order = _report(world, cats)
    other = make_user("community9", Role.COMMUNITY_WORKER, world.community2)
    with pytest.raises(Forbidden):
        wo.take(other, order)
    wo.file(world.street1, order)
    wo.dispatch(world.street1, order, assignee=world.grid1_user)
    with pytest.raises(Conflict):
        wo.take(world.community1, order)
