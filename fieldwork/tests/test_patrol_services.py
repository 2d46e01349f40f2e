import datetime as dt

import pytest
from django.db.models import Q
from django.utils import timezone

from fieldwork import tasks
from fieldwork.models import Patrol, PatrolPoint, PatrolRule, PatrolStatus
from fieldwork.services import patrols
from linli.errors import DomainError, Forbidden, NotFound

# Grid 1 is the square lng 120.60-120.61, lat 31.30-31.31.
LAT, LNG = 31.305, 120.605


def ago(minutes=0, seconds=0):
    return timezone.now() - dt.timedelta(minutes=minutes, seconds=seconds)


def walk(start, n, every_s=30, step_deg=0.0002):
    """n points north from the grid's middle, `every_s` seconds apart (about 22 m a step)."""
    return [{"at": (start + dt.timedelta(seconds=i * every_s)).isoformat(), "lat": LAT + i * step_deg, "lng": LNG, "accuracy": 10} for i in range(n)]


def test_a_patrol_records_its_duration_distance_and_points(world):
    started = ago(minutes=120)
    p = patrols.start_patrol(world.grid1_user, started_at=started, client_key="k1")
    assert p.region == world.grid1 and p.status == PatrolStatus.ACTIVE
    result = patrols.add_points(world.grid1_user, p, walk(started + dt.timedelta(minutes=1), 11))
    assert result == {"accepted": 11, "duplicates": 0, "refused": []}
    p.refresh_from_db()
    assert p.point_count == 11
    assert 215 <= p.distance_m <= 230  # 10 steps of 0.0002° latitude ≈ 22.2 m
    p = patrols.end_patrol(world.grid1_user, p, ended_at=started + dt.timedelta(minutes=75), note="一切正常")
    assert p.status == PatrolStatus.ENDED
    assert p.seconds == 75 * 60
    assert 215 <= p.distance_m <= 230 and p.point_count == 11 and p.note == "一切正常"


def test_a_point_far_from_the_city_is_refused_and_the_rest_of_the_batch_is_kept(world):
    started = ago(minutes=30)
    p = patrols.start_patrol(world.grid1_user, started_at=started)
    points = walk(started + dt.timedelta(minutes=1), 3)
    points.insert(1, {"at": (started + dt.timedelta(minutes=2)).isoformat(), "lat": 39.9, "lng": 116.4, "accuracy": 5})  # Beijing
    result = patrols.add_points(world.grid1_user, p, points)
    assert result["accepted"] == 3
    assert [r["index"] for r in result["refused"]] == [1]
    assert result["refused"][0]["code"] == "point_far"
    # Chinese once the catalogue is compiled from var/zh/patrols.json, English until then.
    assert any(t in result["refused"][0]["message"] for t in ("离本市太远", "too far from the city"))
    assert "too far from the city" in result["refused"][0]["message_en"]
    assert PatrolPoint.objects.filter(patrol=p).count() == 3


def test_a_point_just_outside_the_grid_but_inside_the_city_margin_is_kept(world):
    started = ago(minutes=30)
    p = patrols.start_patrol(world.grid1_user, started_at=started)
    # About 2 km east of the last grid: still the city (a worker walks to the edge of the map).
    result = patrols.add_points(world.grid1_user, p, [{"at": ago(minutes=10).isoformat(), "lat": 31.305, "lng": 120.65}])
    assert result["accepted"] == 1


def test_a_replayed_batch_adds_nothing(world):
    started = ago(minutes=60)
    p = patrols.start_patrol(world.grid1_user, started_at=started)
    batch = walk(started + dt.timedelta(minutes=1), 20)
    patrols.add_points(world.grid1_user, p, batch)
    p.refresh_from_db()
    before = (p.point_count, p.distance_m)
    again = patrols.add_points(world.grid1_user, p, batch)
    assert again == {"accepted": 0, "duplicates": 20, "refused": []}
    p.refresh_from_db()
    assert (p.point_count, p.distance_m) == before
    assert PatrolPoint.objects.filter(patrol=p).count() == 20
    # A batch overlapping the last one adds only its new points.
    more = patrols.add_points(world.grid1_user, p, batch[-5:] + walk(started + dt.timedelta(minutes=20), 5))
    assert more["accepted"] == 5 and more["duplicates"] == 5


def test_bad_points_are_refused_one_by_one_with_a_reason(world):
    started = ago(minutes=30)
    p = patrols.start_patrol(world.grid1_user, started_at=started)
    result = patrols.add_points(world.grid1_user, p, [
        {"at": (timezone.now() + dt.timedelta(hours=1)).isoformat(), "lat": LAT, "lng": LNG},  # future
        {"at": (started - dt.timedelta(hours=1)).isoformat(), "lat": LAT, "lng": LNG},  # before the start
        {"at": ago(minutes=5).isoformat(), "lat": LAT, "lng": LNG, "accuracy": 900},  # imprecise
        {"at": ago(minutes=4).isoformat(), "lat": "north", "lng": LNG},  # not a number
        {"at": "yesterday", "lat": LAT, "lng": LNG},  # not a time
        "nonsense",
        {"at": ago(minutes=3).isoformat(), "lat": LAT, "lng": LNG, "accuracy": 15},  # good
    ])
    codes = [r["code"] for r in result["refused"]]
    assert codes == ["point_future", "point_before_start", "point_inaccurate", "point_invalid", "when_invalid", "point_invalid"]
    assert result["accepted"] == 1
    assert all(r["message"] and r["message_en"] for r in result["refused"])


def test_a_gps_jump_does_not_count_towards_the_distance(world):
    started = ago(minutes=30)
    p = patrols.start_patrol(world.grid1_user, started_at=started)
    t = started + dt.timedelta(minutes=1)
    points = [
        {"at": t.isoformat(), "lat": LAT, "lng": LNG},
        # 1.1 km in 10 s (400 km/h): noise.
        {"at": (t + dt.timedelta(seconds=10)).isoformat(), "lat": LAT + 0.01, "lng": LNG},
        {"at": (t + dt.timedelta(seconds=60)).isoformat(), "lat": LAT + 0.0002, "lng": LNG},
    ]
    patrols.add_points(world.grid1_user, p, points)
    p = patrols.end_patrol(world.grid1_user, p)
    assert p.point_count == 3
    assert 20 <= p.distance_m <= 25


def test_a_worker_of_another_grid_cannot_patrol_this_grid(world):
    with pytest.raises(Forbidden) as refused:
        patrols.start_patrol(world.grid2_user, grid=world.grid1.pk)
    assert refused.value.code == "outside_grid"
    with pytest.raises(Forbidden):
        patrols.start_patrol(world.resident1)
    with pytest.raises(DomainError) as not_grid:
        patrols.start_patrol(world.community1, grid=world.community.pk)
    assert not_grid.value.code == "grid_unknown"
    assert not Patrol.objects.exists()


def test_the_grid_defaults_to_the_workers_only_grid_and_the_community_worker_may_patrol_below(world):
    assert patrols.start_patrol(world.grid1_user).region == world.grid1
    assert patrols.start_patrol(world.community1, grid=world.grid2).region == world.grid2
    with pytest.raises(DomainError) as choose:
        patrols.start_patrol(world.community1)  # not a grid worker of any one grid
    assert choose.value.code == "not_grid_worker"


def test_points_go_only_to_the_workers_own_patrol(world):
    p = patrols.start_patrol(world.grid1_user, started_at=ago(minutes=10), client_key="phone-1")
    with pytest.raises(NotFound):
        patrols.add_points(world.grid2_user, p.pk, walk(ago(minutes=5), 1))
    with pytest.raises(NotFound):
        patrols.end_patrol(world.grid2_user, "phone-1")
    # The phone's key and the id both name it for its worker.
    assert patrols.add_points(world.grid1_user, "phone-1", walk(ago(minutes=5), 1))["accepted"] == 1
    assert patrols.add_points(world.grid1_user, str(p.pk), walk(ago(minutes=4), 1))["accepted"] == 1


def test_starting_again_with_the_same_key_returns_the_same_patrol(world):
    a = patrols.start_patrol(world.grid1_user, started_at=ago(minutes=10), client_key="same")
    b = patrols.start_patrol(world.grid1_user, started_at=ago(minutes=5), client_key="same")
    assert a.pk == b.pk and Patrol.objects.count() == 1


def test_starting_a_second_patrol_ends_the_first(world):
    first = patrols.start_patrol(world.grid1_user, started_at=ago(minutes=90))
    patrols.add_points(world.grid1_user, first, walk(ago(minutes=80), 5, every_s=60))
    second = patrols.start_patrol(world.grid1_user, started_at=ago(minutes=30))
    first.refresh_from_db()
    assert first.status == PatrolStatus.ENDED
    # Its last point was 76 minutes ago, more recent than IDLE: it ran until the new start.
    assert first.seconds == 60 * 60
    assert Patrol.objects.filter(worker=world.grid1_user, status=PatrolStatus.ACTIVE).get() == second


def test_a_forgotten_patrol_is_ended_at_its_last_point_when_another_starts(world):
    first = patrols.start_patrol(world.grid1_user, started_at=ago(minutes=600))
    patrols.add_points(world.grid1_user, first, walk(ago(minutes=590), 1))
    patrols.start_patrol(world.grid1_user)
    first.refresh_from_db()
    assert first.status == PatrolStatus.ENDED and first.seconds == 600  # start to its last point


def test_ending_twice_changes_nothing_and_the_end_cannot_precede_the_start(world):
    p = patrols.start_patrol(world.grid1_user, started_at=ago(minutes=30))
    with pytest.raises(DomainError) as early:
        patrols.end_patrol(world.grid1_user, p, ended_at=ago(minutes=60))
    assert early.value.code == "end_before_start"
    p = patrols.end_patrol(world.grid1_user, p, ended_at=ago(minutes=10))
    again = patrols.end_patrol(world.grid1_user, p, ended_at=ago(minutes=1))
    assert again.seconds == p.seconds == 20 * 60
    with pytest.raises(DomainError) as future:
        patrols.end_patrol(world.grid1_user, patrols.start_patrol(world.grid1_user), ended_at=timezone.now() + dt.timedelta(hours=2))
    assert future.value.code == "when_future"


def test_a_patrol_is_capped_at_twelve_hours(world):
    p = patrols.start_patrol(world.grid1_user, started_at=ago(minutes=20 * 60))
    p = patrols.end_patrol(world.grid1_user, p)
    assert p.seconds == patrols.MAX_SECONDS


def test_a_patrol_left_open_is_closed_at_its_last_point(world):
    idle = patrols.start_patrol(world.grid1_user, started_at=ago(minutes=300))
    patrols.add_points(world.grid1_user, idle, walk(ago(minutes=290), 11, every_s=60))  # last point 280 min ago
    busy = patrols.start_patrol(world.grid2_user, started_at=ago(minutes=60))
    patrols.add_points(world.grid2_user, busy, [{"at": ago(minutes=5).isoformat(), "lat": 31.305, "lng": 120.615}])
    # The quarter-hourly job (run at once under tests) does the same.
    tasks.close_idle_patrols_job()
    assert patrols.close_idle_patrols() == 0  # nothing left to close
    idle.refresh_from_db()
    busy.refresh_from_db()
    assert idle.status == PatrolStatus.ENDED and idle.seconds == 20 * 60 and idle.point_count == 11
    assert busy.status == PatrolStatus.ACTIVE


def test_patrol_time_that_crosses_midnight_counts_on_both_days(world):
    day = timezone.localdate() - dt.timedelta(days=3)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(23, 0)))
    p = patrols.start_patrol(world.grid1_user, started_at=start)
    patrols.end_patrol(world.grid1_user, p, ended_at=start + dt.timedelta(hours=2, minutes=30))
    assert patrols.daily_seconds(world.grid1_user, day) == 3600
    assert patrols.daily_seconds(world.grid1_user, day + dt.timedelta(days=1)) == 5400
    totals = patrols.daily_totals(Q(region_path__startswith=world.community.path), day, day + dt.timedelta(days=1))
    assert totals == {(world.grid1_user.pk, day): 3600, (world.grid1_user.pk, day + dt.timedelta(days=1)): 5400}


def test_a_day_total_counts_all_patrols_of_the_day_against_the_minimum(world):
    day = timezone.localdate() - dt.timedelta(days=1)
    for hour, minutes in ((8, 90), (14, 100), (19, 60)):
        start = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
        p = patrols.start_patrol(world.grid1_user, started_at=start)
        patrols.end_patrol(world.grid1_user, p, ended_at=start + dt.timedelta(minutes=minutes))
    assert patrols.daily_seconds(world.grid1_user, day) == 250 * 60
    rows, total = patrols.worker_days([world.community.path], day, day)
    assert total == 2  # grid1 and grid2 workers, one day
    by_worker = {r["worker"].username: r for r in rows}
    assert by_worker["grid1"]["minutes"] == 250 and by_worker["grid1"]["min_minutes"] == 240 and by_worker["grid1"]["met"]
    assert by_worker["grid2"]["minutes"] == 0 and not by_worker["grid2"]["met"]


def test_the_daily_minimum_comes_from_the_deepest_rule_valid_on_the_day(world):
    day = dt.date(2026, 6, 1)
    assert patrols.min_minutes(world.grid1.path, day) == 240  # the seeded city rule
    PatrolRule.objects.create(min_minutes=300, region=world.street, region_path=world.street.path, valid_from=dt.date(2026, 1, 1))
    PatrolRule.objects.create(min_minutes=180, region=world.grid1, region_path=world.grid1.path, valid_from=dt.date(2026, 5, 1), valid_to=dt.date(2026, 7, 1))
    assert patrols.min_minutes(world.grid1.path, day) == 180
    assert patrols.min_minutes(world.grid2.path, day) == 300
    assert patrols.min_minutes(world.grid1.path, dt.date(2026, 7, 1)) == 300  # the grid rule has ended
    assert patrols.min_minutes(world.grid1.path, dt.date(2025, 12, 31)) == 240  # before the street rule
    assert patrols.min_minutes(world.grid3.path, day) == 300  # grid3 is in the same street


def test_the_route_is_a_geojson_linestring_in_time_order(world):
    started = ago(minutes=30)
    p = patrols.start_patrol(world.grid1_user, started_at=started, lat=LAT, lng=LNG)
    points = walk(started + dt.timedelta(minutes=1), 3)
    patrols.add_points(world.grid1_user, p, list(reversed(points)))
    feature = patrols.geojson(p)
    assert feature["geometry"]["type"] == "LineString"
    coords = feature["geometry"]["coordinates"]
    assert coords[0] == [LNG, LAT] and len(coords) == 4
    assert [c[1] for c in coords[1:]] == [pytest.approx(LAT + i * 0.0002) for i in range(3)]
    p.refresh_from_db()
    assert p.point_count == 4 and p.distance_m > 40


def test_the_city_box_follows_boundary_edits(world):
    from regions import services as rs

    p = patrols.start_patrol(world.grid1_user, started_at=ago(minutes=30))
    far = {"at": ago(minutes=20).isoformat(), "lat": 31.305, "lng": 121.2}  # about 57 km east
    assert patrols.add_points(world.grid1_user, p, [far])["refused"][0]["code"] == "point_far"
    # The city grows east (a grid drawn there): the same point is now inside the city.
    square = {"type": "Polygon", "coordinates": [[[121.19, 31.30], [121.21, 31.30], [121.21, 31.31], [121.19, 31.31], [121.19, 31.30]]]}
    rs.update_region(None, world.grid3, boundary=square)
    assert patrols.add_points(world.grid1_user, p, [far])["accepted"] == 1


def test_the_citys_own_boundary_is_the_box_when_it_has_one(world):
    from regions import services as rs

    square = {"type": "Polygon", "coordinates": [[[120.0, 31.0], [121.0, 31.0], [121.0, 32.0], [120.0, 32.0], [120.0, 31.0]]]}
    rs.update_region(None, world.city, boundary=square)
    p = patrols.start_patrol(world.grid1_user, started_at=ago(minutes=30))
    result = patrols.add_points(world.grid1_user, p, [
        {"at": ago(minutes=20).isoformat(), "lat": 31.9, "lng": 120.1},  # far from any grid, inside the city
        {"at": ago(minutes=19).isoformat(), "lat": 32.2, "lng": 120.1},  # 22 km north of the city
    ])
    assert result["accepted"] == 1 and result["refused"][0]["index"] == 1


def test_the_daily_table_pages_day_by_day_across_the_workers(world):
    from accounts.models import Role
    from registry.testing import make_user

    make_user("grid3", Role.GRID_WORKER, world.grid3)
    today = timezone.localdate()
    everyone = [(r["day"], r["worker"].username) for r in patrols.worker_days([world.city.path], today - dt.timedelta(days=2), today, limit=100)[0]]
    assert everyone[:3] == [(today, "grid1"), (today, "grid2"), (today, "grid3")] and len(everyone) == 9
    pages = []
    for offset in range(0, 9, 2):
        rows, total = patrols.worker_days([world.city.path], today - dt.timedelta(days=2), today, offset=offset, limit=2)
        assert total == 9
        pages += [(r["day"], r["worker"].username) for r in rows]
    assert pages == everyone
    assert {r["grid"].name for r in patrols.worker_days([world.city.path], today, today)[0]} == {"第一网格", "第二网格", "第三网格"}


def test_a_bad_first_fix_does_not_stop_the_patrol(world):
    p = patrols.start_patrol(world.grid1_user, lat=39.9, lng=116.4)
    assert p.status == PatrolStatus.ACTIVE and p.point_count == 0
    assert not PatrolPoint.objects.filter(patrol=p).exists()
