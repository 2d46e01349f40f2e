import datetime as dt

import pytest
from django.utils import timezone

from fieldwork.models import DueItem, Period, Target, VisitRule
from fieldwork.services import dues, record_visit
from registry import services as reg

TODAY = dt.date(2026, 11, 21)


def at(day: dt.date, hour=10):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def snapshot():
    return sorted(
        DueItem.objects.filter(period_end__gte=TODAY).values_list(
            "household_id", "rule__code", "grid_id", "period_start", "period_end", "required", "done", "last_visit_on", "due_on", "weight"
        )
    )


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    return TODAY


def test_periods_cover_weeks_months_and_quarters():
    assert dues.period_bounds(Period.WEEK, TODAY) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))
    assert dues.period_bounds(Period.MONTH, TODAY) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert dues.period_bounds(Period.QUARTER, TODAY) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert dues.period_bounds(Period.MONTH, dt.date(2026, 12, 31)) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


def test_visits_are_spread_evenly_over_the_period():
    start, end = dt.date(2026, 10, 1), dt.date(2026, 12, 31)  # 92 days
    assert dues.due_day(start, end, 2, 0) == dt.date(2026, 11, 15)
    assert dues.due_day(start, end, 2, 1) == end
    assert dues.due_day(start, end, 2, 2) is None


def test_every_household_gets_the_quarterly_rule_and_hardship_ones_the_monthly(world, today):
    reg.add_tag(None, world.g1.residents[0], "dibao")
    dues.recompute_all(TODAY)
    hh1 = world.g1.households[0]
    codes = set(DueItem.objects.filter(household=hh1).values_list("rule__code", flat=True))
    assert codes == {"all_quarterly", "hardship_monthly"}
    assert DueItem.objects.filter(rule__code="all_quarterly").count() == 6


def test_the_due_list_puts_the_most_overdue_and_vulnerable_first(world, today):
    reg.add_tag(None, world.g1.residents[2], "empty_nest")  # the tenant's household
    dues.recompute_all(TODAY)
    hh1, hh2 = world.g1.households
    record_visit(world.grid1_user, household=hh1, visited_at=at(TODAY), met=[world.g1.residents[0].pk])
    rows = dues.due_list([world.grid1.pk], TODAY)
    # hh2: quarterly first visit was due 15 Nov (overdue) and its monthly empty-nest visit is due.
    assert [r.household.pk for r in rows] == [hh2.pk, hh1.pk]
    assert rows[0].state(TODAY) == "overdue" and rows[0].days_overdue(TODAY) == 6
    assert rows[1].state(TODAY) == "due"  # one of two quarterly visits done, second due by 31 Dec


def test_incremental_changes_equal_a_full_recompute(world, today, django_capture_on_commit_callbacks):
    dues.recompute_all(TODAY)
    hh1 = world.g1.households[0]
    with django_capture_on_commit_callbacks(execute=True):
        record_visit(world.grid1_user, household=hh1, visited_at=at(TODAY - dt.timedelta(days=3)), notes="看望")
        reg.add_tag(None, world.g1.residents[0], "tekun")
        reg.add_tag(None, world.g2.residents[2], "correction")
        reg.move_out(None, world.g3.residents[2])
        reg.end_tag(None, world.g1.residents[0], world.g1.residents[0].tags.get(tag__code="tekun").tag)
        reg.add_tag(None, world.g1.residents[1], "living_alone")
    incremental = snapshot()
    dues.recompute_all(TODAY)
    assert snapshot() == incremental
    assert ("key_person_monthly" in {r[1] for r in incremental})


def test_a_new_rule_is_built_without_recomputing_the_others(world, today):
    dues.recompute_all(TODAY)
    before = DueItem.objects.filter(rule__code="all_quarterly").values_list("pk", flat=True)
    before = set(before)
    rule = VisitRule.objects.create(code="weekly_test", name="每周", target=Target.ALL, visits=1, period=Period.WEEK, valid_from=TODAY)
    dues.rebuild_rule(rule.pk, TODAY)
    assert DueItem.objects.filter(rule=rule).count() == 6
    assert set(DueItem.objects.filter(rule__code="all_quarterly").values_list("pk", flat=True)) == before


def test_a_new_month_is_built_once_by_ensure_current(world, today):
    reg.add_tag(None, world.g1.residents[0], "dibao")
    dues.recompute_all(TODAY)
    december = dt.date(2026, 12, 1)
    assert dues.ensure_current(december) == 1
    assert dues.ensure_current(december) == 0
    assert DueItem.objects.filter(rule__code="hardship_monthly", period_start=december).count() == 1
    # November's item stays as history.
    assert DueItem.objects.filter(rule__code="hardship_monthly", period_start=dt.date(2026, 11, 1)).count() == 1
