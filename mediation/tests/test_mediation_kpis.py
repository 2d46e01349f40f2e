import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from insights.models import Rollup
from mediation import figures as kpis
from mediation import services
from mediation.models import Case, FollowUp
from workorders.models import Rating, WorkOrder

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 6, 15)


def at(day: str):
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(9), tzinfo=TZ)


def make(w, grid, actor, mediator, reported, closed=None, agreement_due=None, outcome="no_agreement", score=None, visit=None):
    """A case run through the services today, then moved to the given dates."""
    case = w.take_in(actor=actor, region=grid)
    services.assign_mediators(actor, case, mediators=[mediator])
    if agreement_due:
        services.record_agreement(mediator, case, form="written", signed_on=dt.date.today(), terms=[{"party": "李四", "obligation": "赔偿", "due_on": dt.date.today() + dt.timedelta(days=5)}])
        Case.objects.filter(pk=case.pk).update(signed_on=dt.date.fromisoformat(reported), performance_due=dt.date.fromisoformat(agreement_due))
        FollowUp.objects.filter(case=case, term__isnull=False).update(due_on=dt.date.fromisoformat(agreement_due))
        if visit:
            FollowUp.objects.filter(case=case, term__isnull=False).update(result=visit, note="x")
    if closed:
        services.close_case(actor, case, outcome=None if agreement_due else outcome, note="结案")
    WorkOrder.objects.filter(pk=case.order_id).update(reported_at=at(reported), closed_at=at(closed) if closed else None)
    if score:
        Rating.objects.create(order_id=case.order_id, score=score, at=at(closed))
    return case


@pytest.fixture
def data(med):
    w = med
    w.a = make(w, w.grid1, w.community1, w.mediator, "2026-03-05", "2026-03-12", agreement_due="2026-03-20", score=5, visit="performed")
    w.b = make(w, w.grid2, w.community1, w.mediator, "2026-03-08", "2026-04-02", score=3)
    w.c = make(w, w.grid3, w.worker2, w.worker2, "2026-04-10", "2026-04-13", agreement_due="2026-05-01", visit="partly")
    w.d = make(w, w.grid1, w.community1, w.mediator, "2026-05-20")
    w.e = make(w, w.grid1, w.community1, w.mediator, "2026-06-01", "2026-06-03", agreement_due="2026-07-01")
    return w


def cell(region, period, start, today=None):
    rows = Rollup.objects.filter(region=region, period=period, period_start=dt.date.fromisoformat(start), indicator__startswith="med.")
    return {r.indicator: r.value for r in rows}


def test_the_figures_of_a_known_small_set(data):
    w = data
    kpis.refresh_all(today=TODAY)
    # grid1, March: case A received, closed in 7 days with agreement, rated 5, its deadline passed and performed
    assert cell(w.grid1, "month", "2026-03-01") == {
        "med.received": 1, "med.closed": 1, "med.agreed": 1, "med.days_sum": 7, "med.rated": 1, "med.rating_sum": 5,
        "med.agreements_due": 1, "med.agreements_performed": 1,
    }
    # community1: A and B received in March; B closed in April without agreement after 25 days, rated 3
    march = cell(w.community, "month", "2026-03-01")
    assert (march["med.received"], march["med.closed"], march["med.agreed"]) == (2, 1, 1)
    april = cell(w.community, "month", "2026-04-01")
    assert (april["med.received"], april["med.closed"], april["med.agreed"], april["med.days_sum"], april["med.rating_sum"]) == (0, 1, 0, 25, 3)
    # street, Q2: C and D and E received, B C E closed (25 + 3 + 2 days), C and E agreed;
    # C's deadline (1 May) has passed and was only partly performed; E's (1 July) has not come
    q2 = cell(w.street, "quarter", "2026-04-01")
    assert q2["med.received"] == 3 and q2["med.closed"] == 3 and q2["med.agreed"] == 2 and q2["med.days_sum"] == 30
    assert (q2["med.agreements_due"], q2["med.agreements_performed"]) == (1, 0)
    # city, the year: success 3/4, performance 1/2, satisfaction 8/2, average days 37/4
    year = cell(w.city, "year", "2026-01-01")
    assert year == {
        "med.received": 5, "med.closed": 4, "med.agreed": 3, "med.days_sum": 37, "med.rated": 2, "med.rating_sum": 8,
        "med.agreements_due": 2, "med.agreements_performed": 1,
    }
    # every level has its rows
    assert set(Rollup.objects.filter(period="year").values_list("level", flat=True)) == {1, 2, 3, 4, 5}


def snapshot():
    return sorted(Rollup.objects.values_list("region_id", "period", "period_start", "indicator", "value"))


def test_running_the_job_twice_gives_the_same_rows(data):
    kpis.refresh_all(today=TODAY)
    first = snapshot()
    kpis.refresh_all(today=TODAY)
    kpis.refresh_case(data.a.pk, today=TODAY)
    assert snapshot() == first


def test_a_crash_halfway_leaves_the_rows_as_they_were_and_a_rerun_completes(data):
    kpis.refresh_all(today=TODAY)
    before = snapshot()
    FollowUp.objects.filter(case=data.c, term__isnull=False).update(result="performed")
    with mock.patch.object(Rollup.objects, "bulk_create", side_effect=RuntimeError("crash")):
        with pytest.raises(RuntimeError):
            kpis.refresh_case(data.c.pk, today=TODAY)
    assert snapshot() == before
    kpis.refresh_case(data.c.pk, today=TODAY)
    q2 = cell(data.street, "quarter", "2026-04-01")
    assert (q2["med.agreements_due"], q2["med.agreements_performed"]) == (1, 1)
    kpis.refresh_all(today=TODAY)
    assert cell(data.street, "quarter", "2026-04-01") == q2


def test_refreshing_one_case_touches_only_its_cells(data):
    kpis.refresh_case(data.c.pk, today=TODAY)
    regions = set(Rollup.objects.values_list("region_id", flat=True))
    assert regions == {data.city.pk, data.district.pk, data.street.pk, data.community2.pk, data.grid3.pk}


def test_the_kpi_page_reads_rollup_rows_only(data, login):
    kpis.refresh_all(today=TODAY)
    client = login(data.admin)
    with CaptureQueriesContext(connection) as q:
        r = client.get("/mediation/kpis/", {"region": data.street.pk, "period": "year", "start": "2026-01-01"})
    assert r.status_code == 200
    raw = ("mediation_", "workorders_workorder", "workorders_rating")
    assert not [x for x in q.captured_queries if any(t in x["sql"] for t in raw)]
    html = r.content.decode()
    assert "75.0%" in html  # success 3/4
    assert "50.0%" in html  # performance 1/2
    assert "钮家巷社区" in html and "大儒巷社区" in html


def test_the_kpi_page_refuses_a_place_outside_the_area(data, login):
    r = login(data.worker2).get("/mediation/kpis/", {"region": data.community.pk})
    assert r.status_code == 404
