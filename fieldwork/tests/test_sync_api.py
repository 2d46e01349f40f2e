"""POST /api/fieldwork/sync and GET /api/fieldwork/bundle over HTTP, every kind of queued item,
and the offline pages (service worker, manifest, queue page, the bundle the phone keeps)."""

import datetime as dt
import json
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from fieldwork.models import Patrol, PatrolPoint, PatrolStatus, SyncReceipt, Visit

JSON = "application/json"
TOKEN = "b" * 32


def key():
    return str(uuid.uuid4())


def session(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = TOKEN
    return client


def post(client, items, csrf=True):
    headers = {"X-CSRFToken": TOKEN} if csrf else {}
    return client.post("/api/fieldwork/sync", json.dumps({"items": items}), content_type=JSON, headers=headers)


def visit(world, k=None, household=None):
    hh = household or world.g1.households[0]
    when = (timezone.localtime() - dt.timedelta(minutes=30)).isoformat(timespec="minutes")
    return {"key": k or key(), "kind": "visit", "payload": {"household": hh.pk, "visited_at": when, "met": [world.g1.residents[0].pk], "notes": "好"}}


def test_a_phone_sends_its_queue_with_the_session_and_the_csrf_header(world):
    client = session(world.grid1_user)
    items = [visit(world), visit(world)]
    res = post(client, items)
    assert res.status_code == 200, res.content
    results = res.json()["results"]
    assert [r["status"] for r in results] == ["ok", "ok"]
    assert [r["key"] for r in results] == [i["key"] for i in items]
    assert Visit.objects.count() == 2
    replay = post(client, items).json()["results"]
    assert [r["status"] for r in replay] == ["duplicate", "duplicate"] and Visit.objects.count() == 2


def test_without_the_csrf_header_a_session_post_is_refused_and_nothing_is_kept(world):
    res = post(session(world.grid1_user), [visit(world)], csrf=False)
    assert res.status_code == 403 and res.json()["code"] == "csrf_failed"
    assert Visit.objects.count() == 0 and SyncReceipt.objects.count() == 0


def test_a_bearer_client_syncs_without_csrf(world):
    from accounts.services import issue_token

    token, _row = issue_token(world.grid1_user)
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})
    res = post(client, [visit(world)], csrf=False)
    assert res.status_code == 200 and res.json()["results"][0]["status"] == "ok"


def test_only_field_workers_sync_and_a_stranger_gets_401(world):
    res = post(session(world.resident1), [visit(world)])
    assert res.status_code == 403 and res.json()["code"] == "field_only"
    assert res.json()["message"] and res.json()["message_en"]
    anon = Client().post("/api/fieldwork/sync", json.dumps({"items": []}), content_type=JSON)
    assert anon.status_code == 401
    assert Visit.objects.count() == 0


def test_a_too_big_or_malformed_request_is_refused_whole(world):
    client = session(world.grid1_user)
    res = post(client, [visit(world) for _ in range(501)])
    assert res.status_code == 400 and res.json()["code"] == "too_many_items"
    bad = client.post("/api/fieldwork/sync", "{not json", content_type=JSON, headers={"X-CSRFToken": TOKEN})
    assert bad.status_code in (400, 422) and bad.json()["code"] in ("invalid_json", "invalid_input")
    missing = client.post("/api/fieldwork/sync", json.dumps({"things": []}), content_type=JSON, headers={"X-CSRFToken": TOKEN})
    assert missing.status_code == 422
    assert Visit.objects.count() == 0


def test_a_patrol_recorded_offline_arrives_in_order_and_a_replay_adds_nothing(world):
    client = session(world.grid1_user)
    start = timezone.now() - dt.timedelta(minutes=40)
    pk = key()
    points = [{"at": (start + dt.timedelta(minutes=m)).isoformat(), "lat": 31.305 + m / 10000, "lng": 120.605, "accuracy": 10} for m in range(1, 6)]
    items = [
        {"key": pk, "kind": "patrol_start", "payload": {"started_at": start.isoformat(), "lat": "31.305", "lng": "120.605"}},
        {"key": key(), "kind": "patrol_points", "payload": {"patrol": pk, "points": points}},
        {"key": key(), "kind": "patrol_points", "payload": {"patrol": pk, "points": points[:2] + [{"at": start.isoformat(), "lat": 10, "lng": 10}]}},
        {"key": key(), "kind": "patrol_end", "payload": {"patrol": pk, "ended_at": (start + dt.timedelta(minutes=30)).isoformat(), "note": "一切正常"}},
    ]
    results = post(client, items).json()["results"]
    assert [r["status"] for r in results] == ["ok", "ok", "ok", "ok"], results
    patrol = Patrol.objects.get(client_key=pk)
    assert results[0]["id"] == results[3]["id"] == patrol.pk
    assert results[1]["detail"]["accepted"] == 5
    assert results[2]["detail"]["duplicates"] == 2 and results[2]["detail"]["refused"][0]["code"] == "point_far"
    assert patrol.status == PatrolStatus.ENDED and patrol.note == "一切正常"
    assert PatrolPoint.objects.filter(patrol=patrol).count() == 6  # the start point and five
    again = post(client, items).json()["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 4
    assert again[1]["detail"]["accepted"] == 5  # the first answer, kept
    assert Patrol.objects.count() == 1 and PatrolPoint.objects.count() == 6


def test_a_quick_hazard_report_made_offline_becomes_one_work_order(world, settings, tmp_path):
    from fieldwork.tests.test_sync import jpeg_data_url
    from workorders.models import Category, Kind, WorkOrder
    from workorders.testing import make_categories

    settings.MEDIA_ROOT = str(tmp_path)
    make_categories(world)
    safety = Category.objects.create(kind=Kind.INCIDENT, code="safety", name="安全隐患", is_group=True)
    Category.objects.create(parent=safety, kind=Kind.INCIDENT, code="safety.hazard", name="安全隐患")
    item = {
        "key": key(),
        "kind": "report",
        "payload": {
            "form": "hazard",
            "description": "楼道堆放电瓶车",
            "lat": "31.305",
            "lng": "120.605",
            "urgent": "on",
            "files": [jpeg_data_url()],
            "csrfmiddlewaretoken": "x",
        },
    }
    client = session(world.grid1_user)
    [result] = post(client, [item]).json()["results"]
    assert result["status"] == "ok", result
    order = WorkOrder.objects.get(pk=result["id"])
    assert order.reporter == world.grid1_user and order.priority == "urgent"
    assert order.attachments.count() == 1
    [again] = post(client, [item]).json()["results"]
    assert again["status"] == "duplicate" and again["id"] == order.pk
    assert WorkOrder.objects.count() == 1


def test_the_bundle_holds_the_due_list_households_members_and_categories(world):
    from fieldwork.services import dues
    from registry import services as reg

    reg.add_tag(None, world.g1.residents[0], "dibao")
    dues.recompute_all()
    client = session(world.grid1_user)
    res = client.get("/api/fieldwork/bundle")
    assert res.status_code == 200
    data = res.json()
    assert data["generated_at"] and data["grids"] == [world.grid1.pk]
    by_id = {h["id"]: h for h in data["households"]}
    assert set(by_id) == {h.pk for h in world.g1.households}
    hh1 = by_id[world.g1.households[0].pk]
    assert hh1["head"] == "张三" and [m[1] for m in hh1["members"]] == ["张三", "赵敏"]
    assert hh1["tags"] and hh1["state"] in ("due", "overdue")
    assert hh1["visit_url"].endswith(f"/{world.g1.households[0].pk}/")
    # No other grid's household, no personal numbers.
    assert world.g2.households[0].pk not in by_id
    assert "138" not in res.content.decode()
    page = client.get("/fieldwork/offline/bundle.json")
    assert page.status_code == 200 and page.json()["households"] == data["households"]


def test_the_bundle_reads_in_a_few_queries(world, django_assert_max_num_queries):
    from fieldwork.services import dues

    dues.recompute_all()
    client = session(world.grid1_user)
    client.get("/api/fieldwork/bundle")  # warm the rule and category caches
    with django_assert_max_num_queries(12):
        assert client.get("/api/fieldwork/bundle").status_code == 200


def test_the_service_worker_is_served_under_fieldwork_and_never_cached(world):
    res = Client().get("/fieldwork/sw.js?u=u1")
    assert res.status_code == 200 and res["Content-Type"].startswith("application/javascript")
    assert "no-cache" in res["Cache-Control"] or "max-age=0" in res["Cache-Control"]
    body = res.content.decode()
    assert "fw-pages-" in body and "/static/fieldwork/queue.js" in body and "{%" not in body
    manifest = Client().get("/fieldwork/manifest.webmanifest").json()
    assert manifest["scope"] == "/fieldwork/" and manifest["start_url"] == "/fieldwork/due/"


@pytest.mark.parametrize("path", ["/fieldwork/queue/", "/fieldwork/offline/bundle.json"])
def test_the_queue_page_and_the_bundle_need_a_signed_in_user(world, path):
    res = Client().get(path)
    assert res.status_code == 302 and "/accounts/login/" in res["Location"]


def test_the_queue_page_shows_the_banner_and_the_lists(world):
    client = session(world.grid1_user)
    html = client.get("/fieldwork/queue/").content.decode()
    assert 'id="fw-banner"' in html and "fieldwork/queue.js" in html and 'data-fresh="1"' in html
    assert f'data-user="u{world.grid1_user.pk}"' in html
    assert 'id="fw-waiting"' in html and 'id="fw-refused"' in html
    offline = Client().get("/fieldwork/offline/")
    assert offline.status_code == 200


def test_a_community_worker_keeps_the_due_list_of_the_grid_they_last_opened(world):
    from fieldwork.services import dues

    dues.recompute_all()
    client = session(world.community1)
    # Nothing opened yet: nothing kept (no grid of their own).
    assert client.get("/fieldwork/offline/bundle.json").json()["households"] == []
    assert client.get("/fieldwork/due/", {"grid": world.grid2.pk}).status_code == 200
    data = client.get("/fieldwork/offline/bundle.json").json()
    assert data["grids"] == [world.grid2.pk]
    assert {h["id"] for h in data["households"]} == {h.pk for h in world.g2.households}
    # The API answers the same for the same session, and for a grid asked for by id.
    assert client.get("/api/fieldwork/bundle").json()["grids"] == [world.grid2.pk]
    asked = client.get("/api/fieldwork/bundle", {"grid": world.grid1.pk}).json()
    assert {h["id"] for h in asked["households"]} == {h.pk for h in world.g1.households}
    # A grid of another community is never kept, asked for or not.
    assert client.get("/fieldwork/offline/bundle.json", {"grid": world.grid3.pk}).json()["households"] == []
    assert client.get("/api/fieldwork/bundle", {"grid": world.grid3.pk}).json()["grids"] == []


def test_a_grid_worker_keeps_only_their_own_grid_whatever_they_ask_for(world):
    from fieldwork.services import dues

    dues.recompute_all()
    client = session(world.grid1_user)
    assert client.get("/fieldwork/offline/bundle.json").json()["grids"] == [world.grid1.pk]
    assert client.get("/fieldwork/offline/bundle.json", {"grid": world.grid2.pk}).json()["households"] == []


def test_a_street_officer_reading_a_due_list_keeps_nothing_on_the_phone(world):
    client = session(world.street1)
    assert client.get("/fieldwork/due/", {"grid": world.grid1.pk}).status_code == 200
    res = client.get("/fieldwork/offline/bundle.json", {"grid": world.grid1.pk})
    assert res.status_code == 200 and res.json()["households"] == []
