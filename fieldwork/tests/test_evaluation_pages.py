"""The resident's rating page, the staff results page, the rounds page and the ratings API."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from fieldwork.models import EvaluationRound, WorkerRating
from fieldwork.services import evaluations as ev
from registry.testing import make_user

TODAY = dt.date(2026, 11, 21)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    return TODAY


@pytest.fixture
def neighbour(world):
    return make_user("resident2", Role.RESIDENT, world.grid2, resident=world.g2.residents[2])


URL = "/fieldwork/evaluate/"


# ---------------------------------------------------------------- the resident's page


def test_the_resident_sees_their_grid_worker_and_five_stars(world, login):
    resp = login(world.resident1).get(URL)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "grid1" in html and "第一网格" in html and "2026年下半年" in html
    assert html.count('name="score"') == 5
    assert "grid2" not in html


def test_the_resident_rates_and_is_thanked(world, login):
    c = login(world.resident1)
    resp = c.post(URL, {"worker": world.grid1_user.pk, "score": "5", "comment": "随叫随到"}, follow=True)
    assert resp.redirect_chain == [(URL, 302)]
    r = WorkerRating.objects.get()
    assert (r.worker, r.score, r.comment) == (world.grid1_user, 5, "随叫随到")
    html = resp.content.decode()
    assert 'role="status"' in html and 'name="score"' not in html  # the form gave way to the confirmation


def test_a_second_post_shows_the_refusal_and_keeps_the_first(world, login):
    c = login(world.resident1)
    c.post(URL, {"worker": world.grid1_user.pk, "score": "2"})
    resp = c.post(URL, {"worker": world.grid1_user.pk, "score": "5"})
    assert resp.status_code == 200
    assert list(WorkerRating.objects.values_list("score", flat=True)) == [2]


def test_a_missing_score_is_shown_at_the_form(world, login):
    resp = login(world.resident1).post(URL, {"worker": world.grid1_user.pk, "comment": "留言还在"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'class="form-errors"' in html and "留言还在" in html
    assert WorkerRating.objects.count() == 0


def test_a_resident_cannot_post_a_rating_for_another_grids_worker(world, login, neighbour):
    resp = login(neighbour).post(URL, {"worker": world.grid1_user.pk, "score": "1"})
    assert resp.status_code == 403
    assert WorkerRating.objects.count() == 0


@pytest.mark.parametrize("who", ["grid1_user", "community1", "admin"])
def test_staff_do_not_get_the_rating_page(world, login, who):
    assert login(getattr(world, who)).get(URL).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    resp = client.get(URL)
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_past_ratings_are_listed(world, login):
    ev.rate(world.resident1, worker=world.grid1_user, score=3, comment="上半年", day=dt.date(2026, 3, 1))
    html = login(world.resident1).get(URL).content.decode()
    assert "2026年上半年" in html and "上半年" in html


# ---------------------------------------------------------------- staff results


def test_the_community_sees_results_of_its_grids(world, login, neighbour):
    ev.rate(world.resident1, worker=world.grid1_user, score=4, comment="很好")
    ev.rate(neighbour, worker=world.grid2_user, score=2)
    resp = login(world.community1).get("/fieldwork/evaluations/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "grid1" in html and "grid2" in html and "很好" in html
    assert world.g1.residents[2].name not in html


def test_a_grid_worker_cannot_look_at_a_sibling_grid(world, login):
    resp = login(world.grid2_user).get(f"/fieldwork/evaluations/?region={world.grid1.pk}")
    assert resp.status_code == 404


def test_residents_do_not_see_results(world, login):
    assert login(world.resident1).get("/fieldwork/evaluations/").status_code == 403


def test_results_export_to_excel(world, login):
    ev.rate(world.resident1, worker=world.grid1_user, score=4)
    resp = login(world.community1).get("/fieldwork/evaluations/export.xlsx")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(resp.streaming_content)[:2] == b"PK"


def test_an_administrator_moves_the_window_on_the_rounds_page(world, login):
    c = login(world.admin)
    assert c.get("/fieldwork/evaluations/rounds/").status_code == 200
    rnd = EvaluationRound.objects.get(period_start=dt.date(2026, 7, 1))
    resp = c.post("/fieldwork/evaluations/rounds/", {"round": rnd.pk, "name": rnd.name, "opens_on": "2026-10-01", "closes_on": "2026-12-31"})
    assert resp.status_code == 302
    rnd.refresh_from_db()
    assert (rnd.opens_on, rnd.closes_on) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    resp = c.post("/fieldwork/evaluations/rounds/", {"round": rnd.pk, "name": rnd.name, "opens_on": "2026-12-31", "closes_on": "2026-10-01"})
    assert resp.status_code == 200 and 'class="form-errors"' in resp.content.decode()
    rnd.refresh_from_db()
    assert rnd.closes_on == dt.date(2026, 12, 31)


def test_community_workers_cannot_move_windows(world, login):
    assert login(world.community1).get("/fieldwork/evaluations/rounds/").status_code == 403


# ---------------------------------------------------------------- API


def test_api_a_resident_rates_once(world, login):
    c = login(world.resident1)
    resp = c.post("/api/fieldwork/ratings", {"worker": world.grid1_user.pk, "score": 4, "comment": "好"}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["score"] == 4 and resp.json()["round"] == "2026年下半年"
    resp = c.post("/api/fieldwork/ratings", {"worker": world.grid1_user.pk, "score": 5}, content_type="application/json")
    assert resp.status_code == 409
    assert resp.json()["code"] == "already_rated" and resp.json()["message_en"] == "You have already rated this grid worker in this round."
    assert WorkerRating.objects.count() == 1


def test_api_refuses_other_grids_staff_and_bad_scores(world, login, neighbour):
    body = {"worker": world.grid1_user.pk, "score": 3}
    resp = login(neighbour).post("/api/fieldwork/ratings", body, content_type="application/json")
    assert resp.status_code == 403 and resp.json()["code"] == "not_your_grid"
    resp = login(world.grid1_user).post("/api/fieldwork/ratings", body, content_type="application/json")
    assert resp.status_code == 403 and resp.json()["code"] == "not_resident"
    resp = login(world.resident1).post("/api/fieldwork/ratings", {**body, "score": 9}, content_type="application/json")
    assert resp.status_code == 400 and resp.json()["field"] == "score"
    assert WorkerRating.objects.count() == 0


def test_api_my_grid_workers_and_ratings(world, login):
    c = login(world.resident1)
    c.post("/api/fieldwork/ratings", {"worker": world.grid1_user.pk, "score": 4}, content_type="application/json")
    data = c.get("/api/fieldwork/ratings/mine").json()
    assert data["grid"] == "第一网格" and data["round"]["closes_on"] == "2027-01-15"
    assert [(w["name"], w["rated"]["score"]) for w in data["workers"]] == [("grid1", 4)]


def test_api_results_are_scoped_and_anonymous(world, login, neighbour):
    ev.rate(world.resident1, worker=world.grid1_user, score=4, comment="耐心")
    ev.rate(neighbour, worker=world.grid2_user, score=2)
    data = login(world.grid1_user).get("/api/fieldwork/ratings/results").json()
    assert data["region"]["name"] == "第一网格"
    assert [(w["name"], w["count"], w["average"]) for w in data["workers"]] == [("grid1", 1, 4.0)]
    assert data["workers"][0]["comments"][0]["comment"] == "耐心"
    assert "resident" not in str(data)
    assert login(world.grid1_user).get(f"/api/fieldwork/ratings/results?region={world.grid2.pk}").status_code == 404
    assert login(world.resident1).get("/api/fieldwork/ratings/results").status_code == 403
    data = login(world.community1).get(f"/api/fieldwork/ratings/results?region={world.community.pk}").json()
    assert data["count"] == 2 and data["distribution"] == [0, 1, 0, 1, 0]


def test_api_rating_needs_sign_in(client, world):
    resp = client.post("/api/fieldwork/ratings", {"worker": 1, "score": 3}, content_type="application/json")
    assert resp.status_code == 401


def test_the_rating_page_names_the_url(world):
    assert reverse("fieldwork:evaluate") == URL
