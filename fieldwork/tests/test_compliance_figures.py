import datetime as dt

import pytest
from django.utils import timezone

from fieldwork import figures as compliance
from fieldwork.models import EvaluationRound, WorkerDay, WorkerRating
from fieldwork.services import dues, patrols, record_visit
from insights.models import Rollup
from workorders import services as wo
from workorders.models import Source, Status, WorkOrder
from workorders.testing import make_categories

TODAY = timezone.localdate()
D1 = TODAY - dt.timedelta(days=2)
D2 = TODAY - dt.timedelta(days=1)


def at(day, hour, minute=0):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def recent(minutes):
    """`minutes` ago, but not before today began (just after midnight, "30 minutes ago" is
    yesterday, and the figures would count the report on the wrong day)."""
    return max(timezone.now() - dt.timedelta(minutes=minutes), at(timezone.localdate(), 0))


def patrol(user, start, end):
    p = patrols.start_patrol(user, started_at=start)
    return patrols.end_patrol(user, p, ended_at=end)


def cell(region, indicator, period="month", day=None):
    day = day or D1
    start = compliance.period_start(period, day)
    return Rollup.objects.filter(region=region, period=period, period_start=start, indicator=indicator).values_list("value", flat=True).first() or 0


def facts():
    """The worker-days, and the month rows kept from them (which must always be their sums)."""
    from django.db.models import Count, Q, Sum

    from fieldwork.models import WorkerMonth

    days = sorted(WorkerDay.objects.values_list("worker_id", "grid_id", "day", *compliance.FACT_FIELDS))
    months = sorted(WorkerMonth.objects.values_list("worker_id", "grid_id", "month", "days", "days_met", "patrol_seconds", "visits",
                                                    "reports", "orders_due", "orders_on_time"))
    summed = {}
    for w, g, day, *_f in days:
        summed.setdefault((w, g, day.replace(day=1)), []).append(day)
    expected = []
    for (w, g, month), _ds in sorted(summed.items()):
        r = WorkerDay.objects.filter(worker_id=w, grid_id=g, day__gte=month, day__lt=compliance.period_end("month", month)).aggregate(
            n=Count("id"), met=Count("id", filter=Q(patrol_min_met=True)), s=Sum("patrol_seconds"), v=Sum("visits"), r=Sum("reports"),
            d=Sum("orders_due"), o=Sum("orders_on_time"))
        expected.append((w, g, month, r["n"], r["met"], r["s"], r["v"], r["r"], r["d"], r["o"]))
    assert months == expected, "the month rows are the sums of the worker-days"
    return days, months


def figures():
    return sorted(Rollup.objects.filter(indicator__startswith="fw.").values_list("region_id", "period", "period_start", "indicator", "value"))


@pytest.fixture
def field(world):
    world.cats = make_categories(world)
    dues.recompute_all(TODAY)
    return world


def activity(w):
    """Two patrols (one over midnight), two visits, a grid report, an order due and closed in
    time, a must-attend arrival and a rating, all in grid1 by grid1's worker."""
    u = w.grid1_user
    patrol(u, at(D1, 8), at(D1, 12, 30))  # 4.5 h: the 4 h minimum is met
    patrol(u, at(D1, 22), at(D2, 1))  # 2 h on D1, 1 h on D2 (not met)
    hh1, hh2 = w.g1.households
    record_visit(u, household=hh1, visited_at=at(D1, 10), notes="看望")
    record_visit(u, household=hh2, visited_at=at(D1, 11), nobody_home=True)
    report = wo.report(u, category=w.cats["litter"], source=Source.GRID, region=w.grid1, title="垃圾", attributes={"amount": "small"})
    dispute = wo.report(u, category=w.cats["dispute"], source=Source.GRID, region=w.grid1, title="纠纷")
    from fieldwork.services import attend

    WorkOrder.objects.filter(pk=dispute.pk).update(reported_at=recent(30))
    dispute.refresh_from_db()
    attend.arrive(u, dispute, arrived_at=dispute.reported_at + dt.timedelta(minutes=12))
    # An order assigned to the worker, due on D1 and closed the hour before.
    WorkOrder.objects.filter(pk=report.pk).update(
        assignee=u, deadline=at(D1, 18), status=Status.CLOSED, closed_at=at(D1, 17), updated_at=timezone.now()
    )
    rnd = EvaluationRound.objects.create(name="下半年", period_start=dt.date(TODAY.year, 7, 1), opens_on=TODAY, closes_on=TODAY)
    r = WorkerRating(round=rnd, worker=u, resident=w.g1.residents[0], score=4)
    r.set_region(w.grid1)
    r.save()
    return report, dispute


def test_worker_days_split_patrols_at_midnight_and_count_visits_reports_and_orders(field):
    activity(field)
    compliance.rebuild()
    u, g = field.grid1_user.pk, field.grid1.pk
    days, months = facts()
    rows = {day: r for _w, _g, day, *r in days if _w == u and _g == g}
    assert rows[D1] == [6.5 * 3600, True, 2, 0, 1, 1]
    assert rows[D2] == [3600, False, 0, 0, 0, 0]
    assert rows[TODAY] == [0, False, 0, 2, 0, 0]
    assert len(days) == 3
    # Their month rows (two when the days fall in two months).
    assert sum(m[3] for m in months) == 3 and sum(m[5] for m in months) == 7.5 * 3600


def test_figures_roll_up_from_grid_to_city(field):
    activity(field)
    compliance.rebuild()
    w = field
    for region in (w.grid1, w.community, w.street, w.city):
        assert cell(region, "fw.visits") == 2
        assert cell(region, "fw.patrol.seconds", "quarter") == 7.5 * 3600
        assert cell(region, "fw.patrol.days_met", "year") == 1
        assert cell(region, "fw.orders.on_time") == 1
        assert cell(region, "fw.reports", day=TODAY) == 2
        assert cell(region, "fw.attend.count", day=TODAY) == 1
        assert cell(region, "fw.attend.seconds", day=TODAY) == 720
        assert cell(region, "fw.rating.sum", day=TODAY) == 4
    assert cell(w.grid1, "fw.patrol.worker_days", "year") == 3
    assert cell(w.grid2, "fw.visits") == 0
    # Coverage of the current period: 6 households × the quarterly rule, 2 of 6 visited once
    # (twice needed) -> none met yet.
    assert cell(w.city, "fw.coverage.required", day=TODAY) == 6
    assert cell(w.community, "fw.coverage.required", day=TODAY) == 4
    assert cell(w.city, "fw.coverage.met", day=TODAY) == 0


def test_a_second_visit_meets_coverage_and_clears_the_overdue_count(field):
    hh1 = field.g1.households[0]
    compliance.rebuild()
    quarter_first_due = dues.due_day(*dues.period_bounds("quarter", TODAY), 2, 0)
    overdue_before = cell(field.grid1, "fw.overdue", "day", TODAY)
    assert overdue_before == (2 if quarter_first_due < TODAY else 0)
    record_visit(field.grid1_user, household=hh1, visited_at=recent(5), notes="a")
    record_visit(field.grid1_user, household=hh1, visited_at=timezone.now(), notes="b")
    compliance.refresh()
    assert cell(field.grid1, "fw.coverage.met", day=TODAY) == 1
    assert cell(field.city, "fw.coverage.met", day=TODAY) == 1
    assert cell(field.grid1, "fw.overdue", "day", TODAY) == max(0, overdue_before - 1)


def test_incremental_refreshes_equal_a_rebuild(field):
    compliance.rebuild()
    activity(field)
    patrol(field.grid2_user, at(D2, 9), at(D2, 14))
    compliance.refresh()
    record_visit(field.grid2_user, household=field.g2.households[0], visited_at=at(D2, 15), notes="c")
    compliance.refresh()
    incremental_facts, incremental = facts(), figures()
    assert incremental_facts and incremental
    compliance.rebuild()
    assert facts() == incremental_facts
    assert figures() == incremental


def test_an_idle_refresh_changes_nothing(field):
    activity(field)
    compliance.rebuild()
    before = figures()
    stats = compliance.refresh()
    assert figures() == before
    assert stats["pairs"] >= 0


def test_a_new_care_tag_updates_coverage_at_the_next_refresh(field, django_capture_on_commit_callbacks):
    from registry import services as reg

    compliance.rebuild()
    before = cell(field.grid1, "fw.coverage.required", day=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        reg.add_tag(None, field.g1.residents[0], "dibao")  # hardship: a monthly visit too
    compliance.refresh()
    assert cell(field.grid1, "fw.coverage.required", day=TODAY) == before + 1
    assert cell(field.city, "fw.coverage.required", day=TODAY) == 7
    incremental = figures()
    compliance.rebuild()
    assert figures() == incremental


def test_an_open_order_counts_as_due_once_its_deadline_passes(field):
    u = field.grid1_user
    order = wo.report(u, category=field.cats["litter"], source=Source.GRID, region=field.grid1, title="垃圾", attributes={"amount": "small"})
    now = timezone.now()
    WorkOrder.objects.filter(pk=order.pk).update(assignee=u, deadline=now + dt.timedelta(hours=1), updated_at=now - dt.timedelta(hours=1))
    compliance.rebuild(now)
    assert not WorkerDay.objects.filter(orders_due__gt=0).exists()
    later = now + dt.timedelta(hours=2)
    compliance.refresh(later)
    due_day = timezone.localtime(now + dt.timedelta(hours=1)).date()
    assert WorkerDay.objects.get(worker=u, day=due_day).orders_due == 1
    assert WorkerDay.objects.get(worker=u, day=due_day).orders_on_time == 0
    incremental = facts()
    compliance.rebuild(later)
    assert facts() == incremental


def test_an_order_dispatched_away_after_its_deadline_no_longer_counts_for_the_worker_who_had_it(field):
    u = field.grid1_user
    # Reported by the community worker, given to grid1's worker, due two days ago.
    order = wo.report(field.community1, category=field.cats["litter"], source=Source.GRID, region=field.grid1, title="垃圾",
                      attributes={"amount": "small"})
    now = timezone.now()
    deadline = at(D1, 18)
    WorkOrder.objects.filter(pk=order.pk).update(status=Status.DISPATCHED, assignee=u, deadline=deadline, updated_at=now)
    compliance.rebuild(now)
    due_day = timezone.localtime(deadline).date()
    assert WorkerDay.objects.get(worker=u, day=due_day).orders_due == 1

    # The dispatcher gives it to the community worker (not a grid worker: no worker-days).
    wo.dispatch(None, order, assignee=field.community1, note="转社区")
    compliance.refresh(timezone.now() + dt.timedelta(minutes=1))
    assert not WorkerDay.objects.filter(worker=u, day=due_day, orders_due__gt=0).exists()
    assert cell(field.grid1, "fw.orders.due", day=due_day) == 0
    incremental = facts(), figures()
    compliance.rebuild(timezone.now() + dt.timedelta(minutes=1))
    assert (facts(), figures()) == incremental


def test_a_patrol_sent_days_late_from_a_phone_counts_at_the_next_refresh(field):
    """The phone had no signal for a week: the patrol reaches the server now with its own times."""
    u = field.grid1_user
    compliance.rebuild()
    day = TODAY - dt.timedelta(days=6)
    patrol(u, at(day, 9), at(day, 11))
    compliance.refresh(timezone.now() + dt.timedelta(minutes=1))
    assert WorkerDay.objects.get(worker=u, day=day).patrol_seconds == 7200
    assert cell(field.grid1, "fw.patrol.seconds", day=day) == 7200
    assert cell(field.city, "fw.patrol.seconds", day=day) == 7200
    incremental = facts(), figures()
    compliance.rebuild(timezone.now() + dt.timedelta(minutes=1))
    assert (facts(), figures()) == incremental


def test_a_patrol_rule_set_from_a_past_day_re_judges_the_worker_days_at_the_next_refresh(field):
    """The rules page makes changes from today on; a rule written otherwise (the admin site, a
    data fix) may start in the past. Either way the refresh re-judges the days it covers."""
    from fieldwork.models import Patrol, PatrolRule

    u = field.grid1_user
    patrol(u, at(D1, 9), at(D1, 12))  # three hours: short of the usual four
    patrol(field.grid2_user, at(D1, 9), at(D1, 12))
    Patrol.objects.update(finished_at=timezone.now() - dt.timedelta(hours=1))  # not what the refresh looks at
    compliance.rebuild()
    assert not WorkerDay.objects.get(worker=u, day=D1).patrol_min_met
    assert cell(field.grid1, "fw.patrol.days_met", day=D1) == 0

    # grid1's community lowers its minimum to two hours, from a week ago.
    rule = PatrolRule.objects.create(min_minutes=120, region=field.community, region_path=field.community.path,
                                     valid_from=TODAY - dt.timedelta(days=7))
    compliance.refresh(timezone.now() + dt.timedelta(minutes=1))
    assert WorkerDay.objects.get(worker=u, day=D1).patrol_min_met
    assert cell(field.grid1, "fw.patrol.days_met", day=D1) == 1
    assert cell(field.community, "fw.patrol.days_met", day=D1) == 2  # grid2 is in the same community
    incremental = facts(), figures()
    compliance.rebuild(timezone.now() + dt.timedelta(minutes=1))
    assert (facts(), figures()) == incremental

    # Moved to start after the patrol: the old minimum applies to that day again.
    rule.valid_from = TODAY
    rule.save()
    compliance.refresh(timezone.now() + dt.timedelta(minutes=3))
    assert not WorkerDay.objects.get(worker=u, day=D1).patrol_min_met
    assert cell(field.grid1, "fw.patrol.days_met", day=D1) == 0
    incremental = facts(), figures()
    compliance.rebuild(timezone.now() + dt.timedelta(minutes=3))
    assert (facts(), figures()) == incremental


def test_a_patrol_rule_changed_on_the_rules_page_re_judges_today(field):
    from fieldwork.models import Patrol
    from fieldwork.services import visit_rules

    u = field.grid1_user
    now = timezone.localtime()
    start = max(now - dt.timedelta(hours=1), timezone.make_aware(dt.datetime.combine(TODAY, dt.time())))
    patrol(u, start, now - dt.timedelta(seconds=10))
    Patrol.objects.update(finished_at=timezone.now() - dt.timedelta(hours=1))  # not what the refresh looks at
    compliance.rebuild()
    day = WorkerDay.objects.get(worker=u, day=TODAY)
    assert not day.patrol_min_met  # an hour at most, against four
    seconds = day.patrol_seconds
    if seconds < 30 * 60:
        pytest.skip("too early in the day for half an hour of patrol")
    visit_rules.save_patrol_rule(field.admin, None, {"min_minutes": "30", "region": str(field.community.pk), "valid_from": TODAY.isoformat()})
    compliance.refresh(timezone.now() + dt.timedelta(minutes=1))
    assert WorkerDay.objects.get(worker=u, day=TODAY).patrol_min_met
    incremental = facts(), figures()
    compliance.rebuild(timezone.now() + dt.timedelta(minutes=1))
    assert (facts(), figures()) == incremental


def test_an_arrival_sent_days_late_from_a_phone_counts_at_the_next_refresh(field):
    from fieldwork.services import attend

    u = field.grid1_user
    day = TODAY.replace(day=1) - dt.timedelta(days=6)  # last month: no refresh of this month's cells reaches it
    dispute = wo.report(field.community1, category=field.cats["dispute"], source=Source.HOTLINE, region=field.grid1, title="纠纷")
    # Reported and last changed long ago: the order itself touches nothing at the refresh.
    WorkOrder.objects.filter(pk=dispute.pk).update(reported_at=at(day, 10), updated_at=timezone.now() - dt.timedelta(days=5))
    dispute.refresh_from_db()
    compliance.rebuild()
    assert cell(field.grid1, "fw.attend.count", day=day) == 0
    # The phone had no signal for six days: the arrival reaches the server now, with its own time.
    attend.arrive(u, dispute, arrived_at=at(day, 10, 20))
    compliance.refresh(timezone.now() + dt.timedelta(minutes=1))
    assert cell(field.grid1, "fw.attend.count", day=day) == 1
    assert cell(field.city, "fw.attend.seconds", day=day) == 20 * 60
    incremental = figures()
    compliance.rebuild(timezone.now() + dt.timedelta(minutes=1))
    assert figures() == incremental
