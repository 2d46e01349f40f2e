"""Two requests carrying the same offline item at once (a phone retrying while the first post is
still on its way): one visit, and both answers name it."""

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from fieldwork.models import SyncReceipt, Visit
from fieldwork.services import sync
from registry.testing import build_world


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory shared-cache SQLite test database raises table locks instead of waiting; "
    "the file database the platform runs on waits (IMMEDIATE transactions, busy timeout)",
)
@pytest.mark.parametrize("rounds", range(3))
def test_the_same_key_posted_twice_at_once_makes_one_visit(rounds):
    world = build_world()
    hh = world.g1.households[0]
    item = {
        "key": str(uuid.uuid4()),
        "kind": "visit",
        "payload": {"household": hh.pk, "visited_at": (timezone.localtime() - dt.timedelta(minutes=5)).isoformat(), "nobody_home": True},
    }
    barrier = threading.Barrier(2)
    answers = []

    def post():
        try:
            barrier.wait(timeout=5)
            answers.extend(sync.sync(world.grid1_user, [dict(item)]))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert Visit.objects.filter(client_key=item["key"]).count() == 1
    visit = Visit.objects.get(client_key=item["key"])
    assert sorted(a["status"] for a in answers) == ["duplicate", "ok"], answers
    assert {a["id"] for a in answers} == {visit.pk}
    assert SyncReceipt.objects.filter(key=item["key"]).count() == 1
