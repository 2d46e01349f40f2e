"""The board every dashboard is made of, fed with plain Rollup cells: the place's figures, the
units below ranked once they reach the minimum, what the feeding app adds, and the area rule."""

import datetime as dt

import pytest
from django.http import Http404

from insights.access import BoardSpec, build, place_for, rank, span
from insights.models import RankingRule, Rollup

MONTH = dt.date(2026, 3, 1)


def _kpis(v: dict) -> dict:
    done, asked = v.get("t.done", 0), v.get("t.asked", 0)
    return {"done": int(done), "rate": done / asked if asked else None, "basis": {"rate": int(asked)}}


def _extend(b, user):
    b.extra["note"] = f"{b.region.name}:{b.figures['done']}"


SPEC = BoardSpec(key="test", kpis=_kpis, rankable={"rate": "rate"}, default_rank="rate", template="x.html", prefix="t.",
                 minimum_indicator=lambda key: f"t.{key}", extend=_extend)


def _cell(region, indicator, value, start=MONTH):
    Rollup.objects.create(region=region, region_path=region.path, level=region.level, period="month", period_start=start,
                          indicator=indicator, value=value)


def test_a_board_reads_the_places_cell_and_ranks_the_units_below_that_reach_the_minimum(world):
    RankingRule.objects.create(indicator="t.rate", min_orders=2, valid_from=dt.date(2020, 1, 1))
    for region, done, asked in ((world.community, 5, 8), (world.grid1, 3, 4), (world.grid2, 1, 1)):
        _cell(region, "t.done", done)
        _cell(region, "t.asked", asked)
    _cell(world.community, "other.done", 99)  # another app's cell: not read
    sp, error = span("month", "2026-03")
    b = build(SPEC, world.community1, world.community, sp)
    assert error is None and b.figures["done"] == 5 and b.values == {"t.done": 5, "t.asked": 8}
    assert b.minimum == 2
    assert [u["region"] for u in b.ranked] == [world.grid1] and b.ranked[0]["rank"] == 1
    assert [u["region"] for u in b.unranked] == [world.grid2]  # one case: below the minimum
    assert b.note == "钮家巷社区:5"  # what the feeding app added
    assert [r.pk for r in b.crumbs] == [world.community.pk]  # nothing above the worker's area


def test_ties_share_a_rank_and_lower_is_better_where_the_spec_says_so():
    units = [{"k": {"rate": r, "basis": {"rate": n}}, "name": name} for name, r, n in (("a", 0.5, 4), ("b", 0.9, 4), ("c", 0.5, 4), ("d", None, 4))]
    ranked, rest = rank(units, "rate", 1, lambda u: u["name"])
    assert [(u["name"], u["rank"]) for u in ranked] == [("b", 1), ("a", 2), ("c", 2)] and [u["name"] for u in rest] == ["d"]
    ranked, _rest = rank(units, "rate", 1, lambda u: u["name"], ascending=True)
    assert [u["name"] for u in ranked] == ["a", "c", "b"]


def test_a_bad_period_falls_back_to_this_month_with_a_message():
    sp, error = span("decade", "20x6-13")
    assert sp.period == "month" and error is not None


def test_only_staff_with_an_area_get_a_board_and_only_of_their_area(world):
    assert place_for(world.grid1_user).pk == world.grid1.pk
    with pytest.raises(Http404):
        place_for(world.grid1_user, world.grid2.pk)
    for outsider in (world.dept1, world.resident1):
        with pytest.raises(Http404):
            place_for(outsider)
