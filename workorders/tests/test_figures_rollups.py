import datetime as dt

import pytest
from django.db import connection

from insights.models import Rollup, Watermark
from workorders import figures as rollups
from workorders import services as wo
from workorders.figures import kpis
from workorders.models import OrderFact, WorkOrder

from .figures_helpers import at, backdate, closed, reported

pytestmark = pytest.mark.django_db(transaction=False)


def cells(region=None, period="month", start=dt.date(2026, 3, 1)):
    qs = Rollup.objects.filter(period=period, period_start=start)
    if region is not None:
        qs = qs.filter(region=region)
    return {r.indicator: r.value for r in qs}


def table():
    """The cells, a zero value counting as no row."""
    rows = Rollup.objects.exclude(indicator__in=["wo.open", "wo.overdue_open"]).exclude(value=0)
    return sorted((r.region_id, r.period, str(r.period_start), r.indicator, r.value) for r in rows)


@pytest.fixture
def march(world, cats):
    """A known month: two orders closed in grid1 (one on time, one late with rework and an
    extension), an open suspended order past its deadline in grid2, one settled on the spot in
    grid1 and a voided report."""
    w = world
    a = closed(w, cats)
    backdate(
        a, reported_at=at("2026-03-02", 9), filed_at=at("2026-03-02", 9, 10), dispatched_at=at("2026-03-02", 9, 40),
        handled_at=at("2026-03-02", 11, 40), verified_at=at("2026-03-02", 12, 40), closed_at=at("2026-03-02", 13),
        deadline=at("2026-03-05", 18),
    )
    b = closed(w, cats, rework=True)
    backdate(
        b, reported_at=at("2026-03-03", 9), filed_at=at("2026-03-03", 10), dispatched_at=at("2026-03-03", 11),
        handled_at=at("2026-03-04", 11), verified_at=at("2026-03-04", 13), closed_at=at("2026-03-10", 9),
        deadline=at("2026-03-06", 18), extension_count=1,
    )
    c = reported(w, cats, w.grid2)
    backdate(c, reported_at=at("2026-03-04", 9), deadline=at("2026-03-08", 18), was_suspended=True, status="suspended")
    d = wo.settle_on_spot(w.grid1_user, category=cats["litter"], region=w.grid1, note="当场清理", attributes={"amount": "small"})
    backdate(
        d, reported_at=at("2026-03-05", 9), filed_at=at("2026-03-05", 9), dispatched_at=at("2026-03-05", 9), handled_at=at("2026-03-05", 9),
        verified_at=at("2026-03-05", 9), closed_at=at("2026-03-05", 9), deadline=at("2026-03-07", 9),
    )
    e = reported(w, cats)
    e = wo.void(w.community1, e, note="重复上报")
    backdate(e, reported_at=at("2026-03-06", 9))
    from workorders.models import Rating

    Rating.objects.create(order=a, score=5, at=at("2026-03-03"))
    Rating.objects.create(order=b, score=3, at=at("2026-03-11"))
    WorkOrder.objects.filter(pk__in=[a.pk, b.pk]).update(updated_at=dt.datetime.now(dt.UTC))
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_it_counts_a_known_month(world, march):
    rollups.refresh()
    g1 = cells(world.grid1)
    assert g1["wo.received"] == 3  # a, b, d (the voided report does not count)
    assert g1["wo.received.incident"] == 3
    assert g1["wo.closed"] == 3
    assert g1["wo.due"] == 3
    assert g1["wo.closed_on_time"] == 2  # a and d; b closed after its deadline
    assert g1["wo.reworked"] == 1 and g1["wo.extended"] == 1
    assert g1["wo.settled_on_spot"] == 1
    assert g1["wo.rated"] == 2 and g1["wo.rating_sum"] == 8
    # Stage times leave out the order settled on the spot.
    assert g1["wo.stage.file.count"] == 2
    assert g1["wo.stage.file.sum"] == 10 * 60 + 60 * 60
    assert g1["wo.stage.handle.sum"] == 2 * 3600 + 24 * 3600
    assert g1["wo.stage.verify.sum"] == 3600 + 2 * 3600
    g2 = cells(world.grid2)
    assert g2["wo.received"] == 1 and g2["wo.due"] == 1 and g2["wo.suspended"] == 1
    assert "wo.closed" not in g2


def test_the_kpis_follow_the_formulas(world, march):
    rollups.refresh()
    k = kpis(cells(world.community))
    assert k["received"] == 4 and k["closed"] == 3
    assert k["on_time_rate"] == pytest.approx(2 / (4 - 1))  # closed on time / (due - suspended)
    assert k["closure_rate"] == pytest.approx(3 / 4)
    assert k["rework_rate"] == pytest.approx(1 / 3)
    assert k["extension_rate"] == pytest.approx(1 / 3)
    assert k["satisfaction"] == pytest.approx(4.0)
    assert k["in_grid_rate"] == pytest.approx(g := cells(world.community)["wo.settled_in_grid"] / 3)
    assert g >= 1 / 3
    assert k["stage_hours"]["file"] == pytest.approx((10 + 60) / 60 / 2)


def test_cells_add_up_at_every_level(world, march):
    rollups.refresh()
    w = world
    for period, start in (("day", dt.date(2026, 3, 2)), ("month", dt.date(2026, 3, 1)), ("quarter", dt.date(2026, 1, 1)), ("year", dt.date(2026, 1, 1))):
        grids = [cells(g, period, start) for g in (w.grid1, w.grid2, w.grid3)]
        communities = [cells(c, period, start) for c in (w.community, w.community2)]
        for ind in ("wo.received", "wo.closed", "wo.due", "wo.closed_on_time", "wo.stage.handle.sum", "wo.rating_sum"):
            g = sum(x.get(ind, 0) for x in grids)
            assert sum(x.get(ind, 0) for x in communities) == g
            for unit in (w.street, w.district, w.city):
                assert cells(unit, period, start).get(ind, 0) == g, (unit, period, ind)
    assert cells(w.city, "day", dt.date(2026, 3, 2))["wo.received"] == 1
    assert cells(w.city, "quarter", dt.date(2026, 1, 1))["wo.received"] == 4


def test_running_twice_changes_nothing(world, march):
    first = rollups.refresh()
    before = table()
    second = rollups.refresh()
    assert first["changed"] == 5 and second["changed"] == 0
    assert table() == before


def test_a_crash_halfway_leaves_everything_as_before(world, march):
    rollups.refresh()
    before, mark = table(), Watermark.objects.get().value
    backdate(march["c"], status="closed", closed_at=at("2026-03-07"))
    for step in ("facts", "cells"):
        with pytest.raises(RuntimeError):
            rollups.refresh(_fail_after=step)
        assert table() == before
        assert Watermark.objects.get().value == mark
        assert OrderFact.objects.get(pk=march["c"].pk).closed_on is None
    rollups.refresh()
    after = table()
    assert after != before
    rollups.rebuild()
    assert table() == after


def test_one_changed_order_changes_only_its_cells(world, march):
    rollups.refresh()
    before = {(r.region_id, r.period, r.period_start, r.indicator): (r.value, r.updated_at) for r in Rollup.objects.all()}
    backdate(march["c"], status="closed", closed_at=at("2026-03-07"), settled_in_grid=True)
    rollups.refresh()
    after = {(r.region_id, r.period, r.period_start, r.indicator): (r.value, r.updated_at) for r in Rollup.objects.all()}
    changed = {k for k in after if before.get(k) != after[k] and not k[3].startswith("wo.open") and k[3] != "wo.overdue_open"}
    # c lies in grid2 → community → street → district → city and closed on 7 March.
    w = world
    assert {k[0] for k in changed} == {w.grid2.pk, w.community.pk, w.street.pk, w.district.pk, w.city.pk}
    assert {(k[1], str(k[2])) for k in changed} <= {("day", "2026-03-07"), ("day", "2026-03-08"), ("month", "2026-03-01"), ("quarter", "2026-01-01"), ("year", "2026-01-01")}
    assert cells(w.grid2)["wo.closed"] == 1
    assert cells(w.grid1) == {k[3]: v[0] for k, v in after.items() if k[0] == w.grid1.pk and k[1] == "month" and k[2] == dt.date(2026, 3, 1)}
    rollups.rebuild()
    assert {k: v[0] for k, v in after.items() if v[0]} == {(r.region_id, r.period, r.period_start, r.indicator): r.value for r in Rollup.objects.all()}


def test_an_open_order_becomes_due_when_its_deadline_passes(world, cats):
    o = reported(world, cats)
    rollups.refresh()
    assert not Rollup.objects.filter(indicator="wo.due").exists()
    assert cells(world.grid1, "day", dt.date.today()).get("wo.open") == 1
    later = o.deadline + dt.timedelta(minutes=1)
    rollups.refresh(now=later)
    start = o.deadline.astimezone(dt.timezone(dt.timedelta(hours=8))).date().replace(day=1)
    assert cells(world.grid1, "month", start)["wo.due"] == 1
    assert Rollup.objects.get(region=world.grid1, indicator="wo.overdue_open", period_start=later.astimezone(dt.timezone(dt.timedelta(hours=8))).date()).value == 1


def test_the_refresh_is_set_based(world, cats, march):
    """The same statements run whatever the number of changed orders."""
    from django.test.utils import CaptureQueriesContext

    rollups.refresh()
    closed(world, cats, world.grid2)
    with CaptureQueriesContext(connection) as few:
        rollups.refresh()
    for _ in range(5):
        closed(world, cats, world.grid2)
    with CaptureQueriesContext(connection) as more:
        rollups.refresh()
    assert len(more) == len(few) < 100
