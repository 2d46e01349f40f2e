import threading

import pytest
from django.db import connection

from linli.errors import Conflict
from registry.testing import build_world
from workorders import services as wo
from workorders.models import Source, Status, Transition
from workorders.testing import make_categories


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory shared-cache SQLite test database raises table locks instead of waiting; "
    "the file database the platform runs on waits (IMMEDIATE transactions, busy timeout)",
)
def test_two_dispatchers_acting_at_once_one_wins_and_the_other_is_told():
    world = build_world()
    cats = make_categories(world)
    order = wo.report(world.resident1, category=cats["litter"], source=Source.PORTAL, lat=31.305, lng=120.605, attributes={"amount": "small"})
    version = order.version
    barrier = threading.Barrier(2)
    outcomes = {}

    def act(name, fn):
        try:
            barrier.wait(timeout=5)
            fn()
            outcomes[name] = "ok"
        except Conflict as exc:
            outcomes[name] = exc.as_dict()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("file", lambda: wo.file(world.community1, order.pk, version=version))),
        threading.Thread(target=act, args=("void", lambda: wo.void(world.street1, order.pk, note="重复上报", version=version))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(v == "ok" for v in outcomes.values()) == [False, True], outcomes
    loser = next(v for v in outcomes.values() if v != "ok")
    assert loser["code"] == "order_changed"
    assert "刷新" in loser["message"] or "Reload" in loser["message_en"]
    order.refresh_from_db()
    assert order.status in (Status.FILED, Status.VOIDED) and order.version == version + 1
    assert Transition.objects.filter(order=order).count() == 2  # the report and the winner's step


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory shared-cache SQLite test database raises table locks instead of waiting; "
    "the file database the platform runs on waits (IMMEDIATE transactions, busy timeout)",
)
def test_twenty_identical_dispatches_at_once_give_one_step_and_nineteen_conflicts():
    """A double tap or a client's retries: the same dispatch sent 20 times at once with the version
    it saw is taken once; the others answer 409 and leave no step or notice behind."""
    from django.test import Client

    from accounts.services import issue_token
    from workorders.models import Notification

    world = build_world()
    cats = make_categories(world)
    order = wo.report(world.resident1, category=cats["litter"], source=Source.PORTAL, lat=31.305, lng=120.605, attributes={"amount": "small"})
    order = wo.file(world.community1, order)
    key, _row = issue_token(world.community1)
    barrier = threading.Barrier(20)
    statuses = []

    def dispatch():
        try:
            client = Client(headers={"Authorization": f"Bearer {key}"})
            barrier.wait(timeout=10)
            r = client.post(f"/api/workorders/orders/{order.pk}/dispatch", {"assignee_id": world.grid1_user.pk, "version": order.version},
                            content_type="application/json")
            statuses.append(r.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [200] + [409] * 19
    assert Transition.objects.filter(order=order, action="dispatch").count() == 1
    assert Notification.objects.filter(order=order, verb="dispatched").count() == 1


@pytest.mark.django_db
def test_a_step_without_the_version_it_saw_is_refused_and_changes_nothing(world):
    from django.test import Client

    from accounts.services import issue_token

    cats = make_categories(world)
    order = wo.report(world.resident1, category=cats["litter"], source=Source.PORTAL, lat=31.305, lng=120.605, attributes={"amount": "small"})
    key, _row = issue_token(world.community1)
    client = Client(headers={"Authorization": f"Bearer {key}"})
    r = client.post(f"/api/workorders/orders/{order.pk}/file", {"note": "立案"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "version"
    order.refresh_from_db()
    assert order.status == Status.REPORTED and Transition.objects.filter(order=order).count() == 1
