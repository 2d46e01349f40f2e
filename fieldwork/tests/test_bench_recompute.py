"""A recompute over existing due items writes only what differs and ends where a build from
nothing ends (the speed work of bench/FIELDWORK.md must not change what the lists say)."""

import datetime as dt

import pytest
from django.utils import timezone

from fieldwork.models import DueItem, Visit, VisitRule
from fieldwork.services import dues
from registry import services as reg
from registry.models import CareTag, ResidentTag

TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    return TODAY


def snapshot():
    return sorted(
        DueItem.objects.filter(period_end__gte=TODAY).values_list(
            "household_id", "rule__code", "grid_id", "region_path", "period_start", "period_end", "required", "done",
            "last_visit_on", "due_on", "weight",
        )
    )


def from_nothing():
    DueItem.objects.all().delete()
    dues.recompute_all(TODAY)
    return snapshot()


def visit(world, household, day):
    return Visit.objects.create(
        household=household, worker=world.grid1_user, region=household.region, region_path=household.region_path,
        visited_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
    )


def test_a_recompute_after_changes_the_signals_missed_equals_a_build_from_nothing(world, today):
    dues.recompute_all(TODAY)
    hh1, hh2 = world.g1.households
    # Changes made behind the engine's back (no on-commit refresh in this test transaction).
    reg.add_tag(None, world.g1.residents[0], "dibao")
    reg.add_tag(None, world.g2.residents[0], "correction")
    visit(world, hh2, TODAY - dt.timedelta(days=2))
    hh1_item = DueItem.objects.get(household=hh1, rule__code="all_quarterly")
    hh1_item.done, hh1_item.due_on = 5, None  # a wrong figure the recompute must put right
    hh1_item.save()
    dues.recompute_all(TODAY)
    recomputed = snapshot()
    assert ("all_quarterly", 1) in {(r[1], r[7]) for r in recomputed if r[0] == hh2.pk}
    assert {r[1] for r in recomputed if r[0] == hh1.pk} == {"all_quarterly", "hardship_monthly"}
    assert recomputed == from_nothing()


def test_a_recompute_updates_items_in_place_instead_of_deleting_and_making_them_again(world, today):
    dues.recompute_all(TODAY)
    before = dict(DueItem.objects.values_list("id", "household_id"))
    hh2 = world.g1.households[1]
    visit(world, hh2, TODAY - dt.timedelta(days=1))
    dues.recompute_all(TODAY)
    after = dict(DueItem.objects.values_list("id", "household_id"))
    assert after == before  # same rows, same ids: updated in place, nothing deleted and re-made
    assert DueItem.objects.get(household=hh2, rule__code="all_quarterly").done == 1


def test_a_household_that_lost_its_tag_loses_its_monthly_item_on_recompute(world, today):
    resident = world.g1.residents[0]
    reg.add_tag(None, resident, "tekun")
    dues.recompute_all(TODAY)
    assert DueItem.objects.filter(household_id=resident.household_id, rule__code="hardship_monthly").count() == 1
    reg.end_tag(None, resident, resident.tags.get(tag__code="tekun").tag)
    dues.recompute_all(TODAY)
    assert not DueItem.objects.filter(household_id=resident.household_id, rule__code="hardship_monthly").exists()
    assert snapshot() == from_nothing()


def test_an_area_rebuild_leaves_other_areas_alone(world, today):
    dues.recompute_all(TODAY)
    # Tags written straight into the table (as a bulk import does), so only a rebuild sees them.
    for r in (world.g1.residents[0], world.g3.residents[0]):
        ResidentTag.objects.create(resident=r, tag=CareTag.objects.get(code="dibao"), start_date=TODAY, region_path=r.region_path)
    dues.recompute_all(TODAY, region_path=world.grid1.path)
    codes = dict(DueItem.objects.filter(rule__code="hardship_monthly").values_list("household_id", "region_path"))
    assert world.g1.residents[0].household_id in codes
    assert world.g3.residents[0].household_id not in codes  # grid3 is rebuilt by its own area's job


def test_an_ended_rule_loses_its_current_items_on_recompute(world, today):
    dues.recompute_all(TODAY)
    rule = VisitRule.objects.get(code="all_quarterly")
    rule.valid_to = TODAY
    rule.save()
    dues.recompute_all(TODAY)
    assert not DueItem.objects.filter(rule=rule, period_end__gte=TODAY).exists()
    assert snapshot() == from_nothing()


def test_refreshing_a_household_whose_figures_did_not_change_writes_nothing(world, today):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dues.recompute_all(TODAY)
    hh1 = world.g1.households[0]
    with CaptureQueriesContext(connection) as q:
        assert dues.refresh_household(hh1.pk, TODAY) == 1
    writes = [x["sql"] for x in q.captured_queries if x["sql"].split(" ", 1)[0] in ("UPDATE", "INSERT", "DELETE")]
    assert writes == []
    r = world.g1.residents[0]
    ResidentTag.objects.create(resident=r, tag=CareTag.objects.get(code="dibao"), start_date=TODAY, region_path=r.region_path)
    with CaptureQueriesContext(connection) as q:
        assert dues.refresh_household(hh1.pk, TODAY) == 2
    writes = [x["sql"].split(" ", 1)[0] for x in q.captured_queries if x["sql"].split(" ", 1)[0] in ("UPDATE", "INSERT", "DELETE")]
    assert writes == ["INSERT"]  # the new monthly item; the quarterly one is left as it was
