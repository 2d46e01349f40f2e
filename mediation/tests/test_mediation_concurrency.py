import threading

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from linli.errors import Conflict
from mediation import services
from mediation.models import FollowUp, Term
from registry.testing import build_world, make_user
from workorders.models import Category, Kind, Status


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory shared-cache SQLite test database raises table locks instead of waiting; "
    "the file database the platform runs on waits (IMMEDIATE transactions, busy timeout)",
)
def test_two_mediators_recording_the_agreement_at_once_one_wins_and_the_other_is_told():
    w = build_world()
    category = Category.objects.create(kind=Kind.MEDIATION, code="med.neighbours", name="邻里纠纷")
    mediator = make_user("mediator1", Role.COMMUNITY_WORKER, w.community)
    case = services.take_in(w.community1, category=category, region=w.grid1, title="漏水纠纷", facts="漏水", parties=[{"name": "张三"}])
    services.assign_mediators(w.community1, case, mediators=[mediator, w.community1])
    today = timezone.localdate()
    barrier = threading.Barrier(2)
    outcomes = {}

    def act(name, user, obligation):
        try:
            barrier.wait(timeout=5)
            services.record_agreement(user, case.pk, form="written", signed_on=today, terms=[{"party": "李四", "obligation": obligation, "due_on": today}])
            outcomes[name] = "ok"
        except Conflict as exc:
            outcomes[name] = exc.as_dict()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("a", mediator, "赔偿2000元")),
        threading.Thread(target=act, args=("b", w.community1, "赔偿1500元")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(v == "ok" for v in outcomes.values()) == [False, True], outcomes
    loser = next(v for v in outcomes.values() if v != "ok")
    assert loser["code"] == "agreement_exists"
    assert Term.objects.filter(case=case).count() == 1
    assert FollowUp.objects.filter(case=case).count() == 2
    case.order.refresh_from_db()
    assert case.order.status == Status.HANDLED
    assert case.order.transitions.filter(action="handle").count() == 1
