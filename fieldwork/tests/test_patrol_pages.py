import datetime as dt
import json

from django.urls import reverse
from django.utils import timezone

from fieldwork.models import Patrol, PatrolPoint, PatrolStatus
from fieldwork.services import patrols

LAT, LNG = 31.305, 120.605
API = "/api/fieldwork/patrols"


def ago(minutes=0):
    return timezone.now() - dt.timedelta(minutes=minutes)


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def ended_patrol(world, user=None, minutes=60, points=5):
    user = user or world.grid1_user
    start = ago(minutes + 10)
    p = patrols.start_patrol(user, started_at=start)
    patrols.add_points(user, p, [{"at": (start + dt.timedelta(minutes=i + 1)).isoformat(), "lat": LAT + i * 0.0003, "lng": LNG} for i in range(points)])
    return patrols.end_patrol(user, p, ended_at=start + dt.timedelta(minutes=minutes))


# ---------------------------------------------------------------- the phone page

def test_the_phone_page_shows_todays_time_against_the_minimum(world, login):
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    early = timezone.now() - midnight < dt.timedelta(minutes=85)  # just after midnight: nothing fits today yet
    start = timezone.now() - dt.timedelta(minutes=80) if early else midnight + dt.timedelta(minutes=5)
    p = patrols.start_patrol(world.grid1_user, started_at=start)
    patrols.end_patrol(world.grid1_user, p, ended_at=start + dt.timedelta(minutes=75))
    r = login(world.grid1_user).get(reverse("fieldwork:patrols"))
    assert r.status_code == 200
    state = r.context["state"]
    assert state["min_seconds"] == 240 * 60 and state["active"] is None
    if not early:
        assert state["ended_today"] == 75 * 60 and r.context["percent"] == 31
        assert r.context["today_text"] and r.context["minimum_text"]
    html = r.content.decode()
    assert 'id="start-btn"' in html and 'id="patrol-map"' in html
    assert reverse("fieldwork:patrol_detail", args=[p.pk]) in html  # this week's list


def test_the_phone_page_carries_the_active_patrol_and_its_route(world, login):
    p = patrols.start_patrol(world.grid1_user, started_at=ago(20), client_key="phone-key", lat=LAT, lng=LNG)
    r = login(world.grid1_user).get(reverse("fieldwork:patrols"))
    active = r.context["state"]["active"]
    assert active["id"] == p.pk and active["key"] == "phone-key" and active["points"] == [[LAT, LNG]]
    assert reverse("fieldwork:patrol_end", args=[p.pk]) in r.content.decode()


def test_staff_without_a_grid_are_sent_to_the_daily_table_and_residents_refused(world, login, client):
    assert login(world.street1).get(reverse("fieldwork:patrols")).url == reverse("fieldwork:patrol_daily")
    client.logout()
    assert login(world.resident1).get(reverse("fieldwork:patrols")).status_code == 403


def test_the_buttons_work_without_script(world, login):
    c = login(world.grid1_user)
    r = c.post(reverse("fieldwork:patrol_start"), {"client_key": "nojs"})
    assert r.status_code == 302
    p = Patrol.objects.get(worker=world.grid1_user, client_key="nojs")
    r = c.post(reverse("fieldwork:patrol_end", args=[p.pk]))
    assert r.url == reverse("fieldwork:patrol_detail", args=[p.pk])
    p.refresh_from_db()
    assert p.status == PatrolStatus.ENDED


def test_a_patrol_known_only_by_the_phones_key_leads_to_its_page(world, login):
    p = patrols.start_patrol(world.grid1_user, client_key="abc-123")
    assert login(world.grid1_user).get(reverse("fieldwork:patrol_by_key", args=["abc-123"])).url == reverse("fieldwork:patrol_detail", args=[p.pk])
    assert login(world.grid2_user).get(reverse("fieldwork:patrol_by_key", args=["abc-123"])).status_code == 404


# ---------------------------------------------------------------- the route page

def test_the_route_page_shows_the_route_stats_and_what_was_reported_on_the_way(world, login):
    from fieldwork.services import record_visit
    from workorders import services as wo
    from workorders.models import Source
    from workorders.testing import make_categories

    cats = make_categories(world)
    start = ago(70)
    p = patrols.start_patrol(world.grid1_user, started_at=start)
    patrols.add_points(world.grid1_user, p, [{"at": (start + dt.timedelta(minutes=i + 1)).isoformat(), "lat": LAT + i * 0.0003, "lng": LNG} for i in range(5)])
    order = wo.report(world.grid1_user, category=cats["road"], source=Source.GRID, title="路面塌陷", description="人行道塌陷", region=world.grid1)
    record_visit(world.grid1_user, household=world.g1.households[0], visited_at=ago(5), met_note="张三", notes="身体好")
    p = patrols.end_patrol(world.grid1_user, p)
    r = login(world.grid1_user).get(reverse("fieldwork:patrol_detail", args=[p.pk]))
    assert r.status_code == 200
    assert r.context["route"][0] == [LAT, LNG] and len(r.context["route"]) == 5
    assert r.context["geo"]["features"][0]["geometry"]["type"] == "Polygon"
    assert [o.pk for o in r.context["orders"]] == [order.pk]
    assert len(r.context["visits"]) == 1
    html = r.content.decode()
    assert "路面塌陷" in html and 'id="route-map"' in html
    assert r.context["duration"] and r.context["distance_km"] == f"{p.distance_m / 1000:.2f}"


def test_the_route_page_is_for_the_worker_and_the_staff_of_the_area_only(world, login, client):
    p = ended_patrol(world)
    url = reverse("fieldwork:patrol_detail", args=[p.pk])
    for user, status in ((world.grid1_user, 200), (world.community1, 200), (world.street1, 200), (world.admin, 200), (world.grid2_user, 404), (world.resident1, 404)):
        client.logout()
        assert login(user).get(url).status_code == status, user
    client.logout()
    assert login(world.grid1_user).get(reverse("fieldwork:patrol_detail", args=[999999])).status_code == 404


# ---------------------------------------------------------------- the staff table

def test_the_daily_table_shows_each_worker_per_day_against_the_minimum(world, login):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    start = timezone.make_aware(dt.datetime.combine(yesterday, dt.time(9)))
    for offset, minutes in ((0, 120), (300, 130)):
        p = patrols.start_patrol(world.grid1_user, started_at=start + dt.timedelta(minutes=offset))
        patrols.end_patrol(world.grid1_user, p, ended_at=start + dt.timedelta(minutes=offset + minutes))
    c = login(world.community1)
    r = c.get(reverse("fieldwork:patrol_daily"), {"from": yesterday.isoformat(), "to": yesterday.isoformat()})
    assert r.status_code == 200
    rows = {x["worker"].username: x for x in r.context["rows"]}
    assert set(rows) == {"grid1", "grid2"}
    assert rows["grid1"]["minutes"] == 250 and rows["grid1"]["met"]
    assert rows["grid2"]["minutes"] == 0 and not rows["grid2"]["met"]
    # Filter by grid; a week by default.
    r = c.get(reverse("fieldwork:patrol_daily"), {"grid": world.grid2.pk})
    assert {x["worker"].username for x in r.context["rows"]} == {"grid2"} and r.context["total"] == 7
    # A grid outside the viewer's area is a 404, like a missing one.
    assert c.get(reverse("fieldwork:patrol_daily"), {"grid": world.grid3.pk}).status_code == 404


def test_the_daily_table_pages_and_refuses_a_reversed_range(world, login):
    c = login(world.admin)
    today = timezone.localdate()
    r = c.get(reverse("fieldwork:patrol_daily"), {"from": (today - dt.timedelta(days=29)).isoformat(), "to": today.isoformat()})
    assert r.context["total"] == 60 and len(r.context["rows"]) == 50 and r.context["next_url"]
    r = c.get(reverse("fieldwork:patrol_daily") + r.context["next_url"])
    assert len(r.context["rows"]) == 10 and r.context["prev_url"] and not r.context["next_url"]
    r = c.get(reverse("fieldwork:patrol_daily"), {"from": today.isoformat(), "to": (today - dt.timedelta(days=3)).isoformat()})
    assert r.status_code == 200 and r.context["error"]


def test_a_grid_worker_sees_only_their_own_grid_in_the_daily_table(world, login):
    r = login(world.grid1_user).get(reverse("fieldwork:patrol_daily"))
    assert {x["worker"].username for x in r.context["rows"]} == {"grid1"}


# ---------------------------------------------------------------- the API

def test_start_points_and_end_over_the_api(world, login):
    c = login(world.grid1_user)
    start = ago(30)
    r = post(c, API, {"started_at": start.isoformat(), "client_key": "api-1", "lat": LAT, "lng": LNG})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["grid"]["id"] == world.grid1.pk and body["status"] == "active" and body["point_count"] == 1
    assert post(c, API, {"client_key": "api-1"}).json()["id"] == body["id"]  # replayed start
    points = [{"at": (start + dt.timedelta(minutes=i + 1)).isoformat(), "lat": LAT + (i + 1) * 0.0002, "lng": LNG, "accuracy": 8} for i in range(4)]
    points.append({"at": (start + dt.timedelta(minutes=6)).isoformat(), "lat": 22.5, "lng": 114.0})  # far away
    r = post(c, f"{API}/api-1/points", {"points": points})
    assert r.status_code == 200, r.content
    got = r.json()
    assert got["accepted"] == 4 and got["duplicates"] == 0 and got["point_count"] == 5
    assert got["refused"][0]["index"] == 4 and got["refused"][0]["code"] == "point_far"
    assert post(c, f"{API}/{body['id']}/points", {"points": points[:4]}).json()["accepted"] == 0  # replayed batch
    r = post(c, f"{API}/{body['id']}/end", {"ended_at": (start + dt.timedelta(minutes=20)).isoformat(), "note": "完成"})
    assert r.status_code == 200 and r.json()["seconds"] == 1200 and r.json()["status"] == "ended"
    assert PatrolPoint.objects.filter(patrol_id=body["id"]).count() == 5


def test_the_api_refuses_another_grid_and_other_peoples_patrols(world, login, client):
    c = login(world.grid2_user)
    r = post(c, API, {"grid_id": world.grid1.pk})
    assert r.status_code == 403 and r.json()["code"] == "outside_grid"
    p = ended_patrol(world)
    assert post(c, f"{API}/{p.pk}/end", {}).status_code == 404
    assert post(c, f"{API}/{p.pk}/points", {"points": []}).status_code == 404
    assert c.get(f"{API}/{p.pk}").status_code == 404
    r = post(c, API, {"started_at": (timezone.now() + dt.timedelta(days=1)).isoformat()})
    assert r.status_code == 400 and r.json()["code"] == "when_future" and r.json()["message_en"]
    assert not Patrol.objects.filter(worker=world.grid2_user).exists()


def test_the_route_api_answers_a_geojson_linestring_and_the_stats(world, login):
    p = ended_patrol(world, points=4)
    r = login(world.community1).get(f"{API}/{p.pk}")
    assert r.status_code == 200
    body = r.json()
    assert body["route"]["type"] == "Feature" and body["route"]["geometry"]["type"] == "LineString"
    assert body["route"]["geometry"]["coordinates"][0] == [LNG, LAT]
    assert len(body["route"]["geometry"]["coordinates"]) == 4
    assert body["seconds"] == 3600 and body["min_minutes"] == 240 and body["distance_m"] == p.distance_m > 0


def test_the_patrol_list_api_is_mine_or_my_areas(world, login, client):
    mine = ended_patrol(world)
    other = ended_patrol(world, user=world.grid2_user)
    r = login(world.grid1_user).get(API, {"mine": "true"})
    assert [x["id"] for x in r.json()["items"]] == [mine.pk]
    client.logout()
    r = login(world.community1).get(API)
    assert {x["id"] for x in r.json()["items"]} == {mine.pk, other.pk}
    r = login(world.community1).get(API, {"limit": 1})
    assert len(r.json()["items"]) == 1 and r.json()["next_after"]
    client.logout()
    assert login(world.grid2_user).get(API).json()["items"][0]["id"] == other.pk
    assert len(login(world.grid2_user).get(API).json()["items"]) == 1


def test_a_long_route_is_thinned_for_the_phone_but_keeps_its_ends(world, login):
    start = ago(600)
    p = patrols.start_patrol(world.grid1_user, started_at=start)
    for batch in range(9):
        patrols.add_points(world.grid1_user, p, [
            {"at": (start + dt.timedelta(seconds=4 * (batch * 500 + i) + 1)).isoformat(), "lat": LAT + 0.000001 * (batch * 500 + i), "lng": LNG}
            for i in range(500)
        ])
    r = login(world.grid1_user).get(reverse("fieldwork:patrol_detail", args=[p.pk]))
    route = r.context["route"]
    assert len(route) <= 2001
    assert route[0] == [LAT, LNG] and route[-1][0] == round(LAT + 0.000001 * 4499, 7)
