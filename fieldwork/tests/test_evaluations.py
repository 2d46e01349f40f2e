"""Residents rate their grid workers twice a year: who may rate, once per round, the window,
the score, and what staff see (anonymous results)."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from accounts.models import Role
from fieldwork.models import EvaluationRound, WorkerRating
from fieldwork.services import evaluations as ev
from linli.errors import Conflict, DomainError, Forbidden
from registry import services as reg
from registry.testing import add_person, make_user

TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    return TODAY


def resident_user(name, grid, resident):
    return make_user(name, Role.RESIDENT, grid, resident=resident)


def more_residents(world, n):
    """n more resident accounts living in grid1 (in its first household)."""
    hh = world.g1.households[0]
    users = []
    for i in range(n):
        person = add_person(hh, "居民" + "甲乙丙丁戊己庚辛"[i], dt.date(1960, 1, 1 + i), "F", 300 + i, relation="other")
        users.append(resident_user(f"r{i}", world.grid1, person))
    return users


# ---------------------------------------------------------------- rounds


def test_each_half_year_gets_a_round_that_closes_fifteen_days_after_it_ends(db):
    rnd = ev.current_round(TODAY)
    assert (rnd.period_start, rnd.opens_on, rnd.closes_on) == (dt.date(2026, 7, 1), dt.date(2026, 7, 1), dt.date(2027, 1, 15))
    assert rnd.name == "2026年下半年"
    first = ev.current_round(dt.date(2027, 3, 1))
    assert (first.period_start, first.closes_on) == (dt.date(2027, 1, 1), dt.date(2027, 7, 15))
    assert EvaluationRound.objects.count() == 2


def test_while_two_windows_overlap_ratings_go_to_the_half_just_ended(db):
    ended = ev.default_round(dt.date(2026, 7, 1))
    ev.default_round(dt.date(2027, 1, 1))
    assert ev.current_round(dt.date(2027, 1, 10)) == ended
    assert ev.current_round(dt.date(2027, 1, 16)).period_start == dt.date(2027, 1, 1)


def test_an_administrator_moves_a_window_and_others_cannot(world):
    rnd = ev.default_round(dt.date(2026, 7, 1))
    ev.update_round(world.admin, rnd, name="2026下半年评议", opens_on=dt.date(2026, 11, 1), closes_on=dt.date(2026, 11, 30))
    rnd.refresh_from_db()
    assert (rnd.name, rnd.opens_on, rnd.closes_on) == ("2026下半年评议", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    with pytest.raises(Forbidden):
        ev.update_round(world.community1, rnd, name="x", opens_on=dt.date(2026, 7, 1), closes_on=dt.date(2026, 12, 1))
    with pytest.raises(DomainError) as e:
        ev.update_round(world.admin, rnd, name="x", opens_on=dt.date(2026, 12, 1), closes_on=dt.date(2026, 11, 1))
    assert e.value.field == "closes_on"
    rnd.refresh_from_db()
    assert rnd.name == "2026下半年评议"


# ---------------------------------------------------------------- rating


def test_a_resident_rates_the_worker_of_their_grid(world, today):
    r = ev.rate(world.resident1, worker=world.grid1_user, score=4, comment="  很负责  ")
    assert (r.worker, r.score, r.comment, r.region, r.region_path) == (world.grid1_user, 4, "很负责", world.grid1, world.grid1.path)
    assert r.round.period_start == dt.date(2026, 7, 1)
    assert r.resident == world.g1.residents[2]


def test_a_grid_with_two_workers_gets_a_rating_for_each(world, today):
    second = make_user("grid1b", Role.GRID_WORKER, world.grid1)
    ev.rate(world.resident1, worker=world.grid1_user, score=5)
    ev.rate(world.resident1, worker=second.pk, score=3)
    assert sorted(WorkerRating.objects.values_list("worker__username", "score")) == [("grid1", 5), ("grid1b", 3)]


def test_a_resident_of_another_grid_is_refused(world, today):
    neighbour = resident_user("resident2", world.grid2, world.g2.residents[2])
    with pytest.raises(Forbidden) as e:
        ev.rate(neighbour, worker=world.grid1_user, score=5)
    assert e.value.code == "not_your_grid"
    assert WorkerRating.objects.count() == 0


@pytest.mark.parametrize("who", ["grid1_user", "grid2_user", "community1", "admin", "street1"])
def test_staff_cannot_rate(world, today, who):
    with pytest.raises(Forbidden) as e:
        ev.rate(getattr(world, who), worker=world.grid1_user, score=5)
    assert e.value.code == "not_resident"
    assert WorkerRating.objects.count() == 0


def test_a_resident_who_moved_out_cannot_rate(world, today):
    reg.move_out(None, world.g1.residents[2])
    world.resident1.refresh_from_db()
    with pytest.raises(Forbidden) as e:
        ev.rate(world.resident1, worker=world.grid1_user, score=5)
    assert e.value.code == "not_living_here"


def test_a_second_rating_in_the_same_round_is_refused_and_nothing_changes(world, today):
    ev.rate(world.resident1, worker=world.grid1_user, score=2, comment="第一次")
    with pytest.raises(Conflict) as e:
        ev.rate(world.resident1, worker=world.grid1_user, score=5, comment="第二次")
    assert e.value.code == "already_rated" and e.value.status == 409
    assert e.value.text("en") == "You have already rated this grid worker in this round."
    assert list(WorkerRating.objects.values_list("score", "comment")) == [(2, "第一次")]


def test_the_next_round_takes_a_new_rating(world, today):
    ev.rate(world.resident1, worker=world.grid1_user, score=2)
    ev.rate(world.resident1, worker=world.grid1_user, score=4, day=dt.date(2027, 2, 1))
    assert sorted(WorkerRating.objects.values_list("round__period_start", "score")) == [(dt.date(2026, 7, 1), 2), (dt.date(2027, 1, 1), 4)]


def test_rating_is_refused_while_no_window_is_open(world, today):
    rnd = ev.default_round(dt.date(2026, 7, 1))
    ev.update_round(world.admin, rnd, name=rnd.name, opens_on=dt.date(2026, 7, 1), closes_on=dt.date(2026, 11, 20))
    with pytest.raises(DomainError) as e:
        ev.rate(world.resident1, worker=world.grid1_user, score=4)
    assert e.value.code == "round_closed"
    assert WorkerRating.objects.count() == 0


@pytest.mark.parametrize("score", [0, 6, -1, "abc", "", None, "3.5", 3.5, True])
def test_scores_outside_one_to_five_are_refused(world, today, score):
    with pytest.raises(DomainError) as e:
        ev.rate(world.resident1, worker=world.grid1_user, score=score)
    assert e.value.field == "score"
    assert WorkerRating.objects.count() == 0


@pytest.mark.parametrize("score", [1, 5, "3"])
def test_scores_from_one_to_five_are_taken(world, today, score):
    assert ev.rate(world.resident1, worker=world.grid1_user, score=score).score == int(score)


def test_a_comment_longer_than_500_characters_is_refused(world, today):
    with pytest.raises(DomainError) as e:
        ev.rate(world.resident1, worker=world.grid1_user, score=3, comment="好" * 501)
    assert e.value.field == "comment"
    ev.rate(world.resident1, worker=world.grid1_user, score=3, comment="好" * 500)


# ---------------------------------------------------------------- results


def test_results_count_average_and_distribution_per_worker_and_grid(world, today):
    raters = more_residents(world, 5)
    for user, score in zip(raters, [5, 5, 4, 3, 1], strict=True):
        ev.rate(user, worker=world.grid1_user, score=score, comment=f"评价{score}")
    ev.rate(world.resident1, worker=world.grid1_user, score=5)
    neighbour = resident_user("resident2", world.grid2, world.g2.residents[2])
    ev.rate(neighbour, worker=world.grid2_user, score=2)

    res = ev.results(world.community.path, ev.current_round(TODAY))
    assert res.minimum == 5
    assert (res.total.count, res.total.average) == (7, 3.57)
    w1, w2 = res.workers
    assert (w1.name, w1.grid_name, w1.count, w1.average, w1.distribution, w1.rank) == ("grid1", "第一网格", 6, 3.83, [1, 0, 1, 1, 3], 1)
    assert (w2.name, w2.count, w2.average, w2.rank) == ("grid2", 1, 2.0, None)  # too few to rank
    grids = {g.name: (g.count, g.average) for g in res.grids}
    assert grids == {"第一网格": (6, 3.83), "第二网格": (1, 2.0)}
    assert sorted(c["comment"] for c in w1.comments) == ["评价1", "评价3", "评价4", "评价5", "评价5"]


def test_results_are_anonymous(world, today):
    ev.rate(world.resident1, worker=world.grid1_user, score=4, comment="谢谢")
    data = ev.results(world.city.path, ev.current_round(TODAY)).as_dict()
    text = json.dumps(data, default=str, ensure_ascii=False)
    resident = world.g1.residents[2]
    assert "谢谢" in text
    assert resident.name not in text and "resident" not in text and "resident1" not in text
    assert set(data["workers"][0]["comments"][0]) == {"score", "comment", "on"}


def test_results_cover_only_the_area_asked_and_list_unrated_workers(world, today):
    ev.rate(world.resident1, worker=world.grid1_user, score=4)
    res = ev.results(world.grid2.path, ev.current_round(TODAY))
    assert res.total.count == 0
    assert [(w.name, w.count) for w in res.workers] == [("grid2", 0)]


def test_a_ranking_rule_sets_the_minimum(world, today):
    from insights.models import RankingRule

    RankingRule.objects.create(indicator="worker_rating", min_orders=1, valid_from=dt.date(2020, 1, 1))
    ev.rate(world.resident1, worker=world.grid1_user, score=4)
    res = ev.results(world.community.path, ev.current_round(TODAY))
    assert res.minimum == 1 and res.workers[0].rank == 1
