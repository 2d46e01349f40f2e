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
