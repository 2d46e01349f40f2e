import pytest

from regions.models import Region

SQUARE = {"type": "Polygon", "coordinates": [[[120.63, 31.30], [120.64, 31.30], [120.64, 31.31], [120.63, 31.31], [120.63, 31.30]]]}


def test_it_lists_the_users_home_nodes_and_their_children(world, bearer):
    api = bearer(world.community1)
    home = api.get("/api/regions/").json()
    assert [r["id"] for r in home["items"]] == [world.community.pk]
    children = api.get("/api/regions/", {"parent_id": world.community.pk}).json()
    assert {r["name"] for r in children["items"]} == {"第一网格", "第二网格"}
    assert children["parent"]["id"] == world.community.pk
    assert all(r["parent_id"] == world.community.pk and r["level"] == 5 for r in children["items"])


def test_a_grid_worker_sees_only_their_grid(world, bearer):
    api = bearer(world.grid1_user)
    assert [r["id"] for r in api.get("/api/regions/").json()["items"]] == [world.grid1.pk]
    assert api.get(f"/api/regions/{world.grid2.pk}").status_code == 404
    assert api.get("/api/regions/", {"parent_id": world.community.pk}).status_code == 404


def test_detail_carries_ancestors_and_boundary(world, bearer):
    body = bearer(world.grid1_user).get(f"/api/regions/{world.grid1.pk}").json()
    assert [a["name"] for a in body["ancestors"]] == ["苏州市", "姑苏区", "平江街道", "钮家巷社区"]
    assert body["boundary"]["type"] == "Polygon"
    assert body["bbox"] == pytest.approx([120.60, 31.30, 120.61, 31.31])
    assert body["parent_id"] == world.community.pk


def test_a_street_officer_creates_a_grid_with_the_next_code(world, bearer):
    res = bearer(world.street1).post(
        "/api/regions/", {"parent_id": world.community2.pk, "name": "第四网格", "boundary": SQUARE}, content_type="application/json"
    )
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["code"] == world.community2.code + "002" and body["level"] == 5
    assert Region.objects.get(pk=body["id"]).min_lng == 120.63


def test_a_bad_code_is_refused_with_its_field(world, bearer):
    res = bearer(world.street1).post(
        "/api/regions/", {"parent_id": world.street.pk, "name": "错社区", "code": "320509001003"}, content_type="application/json"
    )
    assert res.status_code == 400
    assert res.json()["code"] == "region_code_invalid" and res.json()["field"] == "code"
    assert not Region.objects.filter(name="错社区").exists()


def test_a_grid_worker_may_not_change_the_tree(world, bearer):
    res = bearer(world.grid1_user).patch(f"/api/regions/{world.grid1.pk}", {"name": "改名"}, content_type="application/json")
    assert res.status_code == 403 and res.json()["code"] == "forbidden"
    assert Region.objects.get(pk=world.grid1.pk).name == "第一网格"


def test_rename_and_clear_boundary(world, bearer):
    api = bearer(world.street1)
    res = api.patch(f"/api/regions/{world.grid1.pk}", {"name": "一网格"}, content_type="application/json")
    assert res.status_code == 200 and res.json()["name"] == "一网格" and res.json()["boundary"] is not None
    res = api.patch(f"/api/regions/{world.grid1.pk}", {"boundary": None}, content_type="application/json")
    assert res.json()["boundary"] is None
    bad = api.patch(f"/api/regions/{world.grid1.pk}", {"boundary": {"type": "Point", "coordinates": [1, 2]}}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "boundary_invalid"


def test_move_a_grid_and_merge_communities(world, bearer):
    api = bearer(world.street1)
    res = api.post(f"/api/regions/{world.grid2.pk}/move", {"community_id": world.community2.pk}, content_type="application/json")
    assert res.status_code == 200
    assert res.json()["parent_id"] == world.community2.pk and res.json()["code"].startswith(world.community2.code)
    res = api.post(f"/api/regions/{world.community2.pk}/merge", {"into_id": world.community.pk}, content_type="application/json")
    assert res.status_code == 200 and res.json()["id"] == world.community.pk
    old = Region.objects.get(pk=world.community2.pk)
    assert old.valid_to is not None and old.successor_id == world.community.pk
    closed = api.get("/api/regions/", {"parent_id": world.street.pk}).json()["items"]
    assert {(r["name"], r["active"]) for r in closed} == {("钮家巷社区", True), ("大儒巷社区", False)}


def test_moving_a_community_is_refused(world, bearer):
    res = bearer(world.street1).post(
        f"/api/regions/{world.community.pk}/move", {"community_id": world.community2.pk}, content_type="application/json"
    )
    assert res.status_code == 400 and res.json()["code"] == "region_level"


def test_locate_finds_a_grid_only_within_scope(world, bearer):
    api = bearer(world.grid1_user)
    res = api.get("/api/regions/locate", {"lng": 120.605, "lat": 31.305})
    assert res.status_code == 200 and res.json()["id"] == world.grid1.pk
    assert api.get("/api/regions/locate", {"lng": 120.615, "lat": 31.305}).status_code == 404  # grid2
    assert api.get("/api/regions/locate", {"lng": 100.0, "lat": 20.0}).status_code == 404
    bad = api.get("/api/regions/locate", {"lng": 500, "lat": 31.3})
    assert bad.status_code == 422 and bad.json()["field"] == "lng"


def test_an_unknown_region_is_404(world, bearer):
    res = bearer(world.admin).get("/api/regions/999999")
    assert res.status_code == 404 and res.json()["code"] == "not_found"
    res = bearer(world.admin).post("/api/regions/", {"parent_id": 999999, "name": "x"}, content_type="application/json")
    assert res.status_code == 404
