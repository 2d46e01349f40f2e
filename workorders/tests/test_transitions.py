"""The lifecycle's table (models.TRANSITIONS), walked whole: for every status and every action
of the table, the step either moves the order to the status the table declares, or is refused
with the conflict the services have always answered, and then changes nothing."""

import pytest
from django.utils import timezone, translation

from linli.errors import Conflict
from workorders import services as wo
from workorders.models import (
    CONDITIONS,
    MOVE_WHO,
    TRANSITIONS,
    ApprovalRequest,
    Category,
    Kind,
    RequestKind,
    Source,
    Stage,
    Status,
    Transition,
    WorkOrder,
)
from workorders.services import window
from workorders.testing import make_categories

pytestmark = pytest.mark.django_db

MATERIALS = ["申请人身份证", "户口簿"]

# How each step was named in its refusal ("A work order that is Reported cannot be filed.").
WORDS = {
    "take": "taken on by the community",
    "file": "filed",
    "void": "voided",
    "duplicate": "marked as a duplicate",
    "dispatch": "dispatched",
    "start": "started",
    "handle": "reported as handled",
    "verify": "verified",
    "rework": "verified",
    "close": "closed",
    "request_more_time": "given more time",
    "suspend": "suspended",
    "resume": "resumed",
    "escalate": "escalated",
    "escalate_to_department": "escalated",
    "materials_missing": "told what is missing",
    "accept": "accepted",
    "process": "processed",
    "finish": "finished",
}
REPORTER_STEPS = {"confirm", "rate", "reopen"}


def _suspend(w, order):
    req = ApprovalRequest.objects.create(
        order=order, kind=RequestKind.SUSPENSION, reason="当事人外出", requested_by=w.grid1_user, requested_at=timezone.now()
    )
    return wo.decide(w.community1, req, approve=True)


# Each action of the table with valid input, taken by someone the table's `who` lets take it.
STEPS = {
    "take": lambda w, o: wo.take(w.community1, o),
    "file": lambda w, o: wo.file(w.community1, o),
    "void": lambda w, o: wo.void(w.community1, o, note="不属于受理范围"),
    "duplicate": lambda w, o: wo.mark_duplicate(w.community1, o, of=w.original),
    "dispatch": lambda w, o: wo.dispatch(w.community1, o, assignee=w.grid1_user),
    "start": lambda w, o: wo.start(w.community1, o),
    "handle": lambda w, o: wo.handle(w.community1, o, note="已处理"),
    "verify": lambda w, o: wo.verify(w.community1, o, passed=True),
    "rework": lambda w, o: wo.verify(w.community1, o, passed=False, note="仍未整改"),
    "close": lambda w, o: wo.close(w.community1, o),
    "request_more_time": lambda w, o: wo.request_more_time(w.community1, o, kind=RequestKind.EXTENSION, reason="需协调", hours=24),
    "suspend": _suspend,
    "resume": lambda w, o: wo.resume(w.community1, o),
    "escalate": lambda w, o: wo.escalate(w.community1, o, note="需上级协调"),
    "escalate_to_department": lambda w, o: wo.escalate(w.street1, o, note="需部门处置", department="住建局"),
    "confirm": lambda w, o: wo.confirm(w.resident1, o),
    "rate": lambda w, o: wo.rate(w.resident1, o, score=5),
    "reopen": lambda w, o: wo.reopen(w.resident1, o, reason="问题又出现了"),
    "materials_missing": lambda w, o: window.notify_missing(w.community1, o, ["户口簿"]),
    "accept": lambda w, o: window.accept(w.community1, o, MATERIALS),
    "process": lambda w, o: window.process(w.community1, o, assignee=w.grid1_user),
    "finish": lambda w, o: window.finish(w.community1, o, note="已办结"),
}

WINDOW_STEPS = {action for action, who in MOVE_WHO.items() if who == "window"}


@pytest.fixture
def walk(world):
    cats = make_categories(world)
    group = Category.objects.create(kind=Kind.SERVICE, code="svc", name="一窗受理", is_group=True)
    world.item = Category.objects.create(
        parent=group, kind=Kind.SERVICE, code="svc.residence_proof", name="开具居住证明", materials=MATERIALS, time_limit_days=1,
        settle_on_spot=False,
    )
    world.litter = cats["litter"]
    world.original = _report(world, world.litter)
    return world


def _report(w, category):
    if category.kind == Kind.SERVICE:
        return wo.report(w.community1, category=category, source=Source.WINDOW, region=w.grid1, reporter_name="张三", reporter_phone="13800001234")
    return wo.report(w.resident1, category=category, source=Source.PORTAL, lat=31.305, lng=120.605, attributes={"amount": "small"})


def _order_in(w, category, status, action) -> WorkOrder:
    """A fresh order put in `status` with what that status carries (an assignee once dispatched,
    a closing time once ended, the status it was suspended in)."""
    order = _report(w, category)
    now = timezone.now()
    fields = {"status": status}
    if status in (Status.DISPATCHED, Status.IN_PROGRESS, Status.HANDLED, Status.VERIFIED, Status.CLOSED, Status.SUSPENDED):
        fields.update(assignee=w.grid1_user, filed_at=now, dispatched_at=now, stage=Stage.HANDLE)
    if status in (Status.CLOSED, Status.VOIDED, Status.DUPLICATE):
        fields.update(closed_at=now, stage="", due_at=None)
    if status == Status.SUSPENDED:
        fields.update(suspended_status=Status.IN_PROGRESS, suspended_remaining=3600, due_at=None, was_suspended=True)
    if action in ("escalate_to_department", "take"):  # held at the street's desk (its escalation goes to a
        # department; the community of its place may take it on)
        fields.update(handler_region=w.street, handler_region_path=w.street.path, department="")
    WorkOrder.objects.filter(pk=order.pk).update(**fields)
    order.refresh_from_db()
    return order


def _kinds(action):
    if action in WINDOW_STEPS:
        return [Kind.SERVICE]
    if any(step.when for (_s, a), step in TRANSITIONS.items() if a == action):
        return [Kind.INCIDENT, Kind.SERVICE]  # the condition fails for one and holds for the other
    return [Kind.INCIDENT]


def test_every_action_of_the_table_has_one_who_and_a_step_here():
    assert set(STEPS) == set(MOVE_WHO) == set(WORDS) | REPORTER_STEPS
    assert all(step.who == MOVE_WHO[action] for (_s, action), step in TRANSITIONS.items())
    assert {status for status, _a in TRANSITIONS} <= set(Status.values)


@pytest.mark.parametrize("action", sorted(MOVE_WHO))
def test_each_status_allows_the_declared_steps_and_refuses_every_other(walk, action):
    w = walk
    for kind in _kinds(action):
        category = w.item if kind == Kind.SERVICE else w.litter
        for status in Status.values:
            order = _order_in(w, category, status, action)
            step = TRANSITIONS.get((status, action))
            allowed = step is not None and (not step.when or CONDITIONS[step.when](order))
            where = (action, kind, status)
            if allowed:
                expected = step.status_after(order)
                STEPS[action](w, order)
                order.refresh_from_db()
                assert order.status == expected, where
                continue
            version, steps = order.version, Transition.objects.filter(order=order).count()
            with pytest.raises(Conflict) as refused:
                STEPS[action](w, order)
            if action in REPORTER_STEPS:
                assert refused.value.code == "not_closed", where
                assert refused.value.text("en") == "This can be done only after the work order is closed.", where
            else:
                with translation.override("en"):
                    label = str(Status(status).label)
                assert refused.value.code == "transition_not_allowed", where
                assert refused.value.text("en") == f"A work order that is {label} cannot be {WORDS[action]}.", where
            order.refresh_from_db()
            assert (order.status, order.version) == (status, version), where
            assert Transition.objects.filter(order=order).count() == steps, where
