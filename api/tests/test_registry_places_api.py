from registry.models import Building, House, Household, Organization

JSON = "application/json"


def test_it_lists_buildings_in_keyset_pages(world, bearer):
    for n in range(2, 6):
        Building.objects.create(region=world.grid1, region_path=world.grid1.path, estate="测试小区1", number=str(n))
    api = bearer(world.community1)
    first = api.get("/api/registry/buildings", {"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_after"] == first["items"][-1]["id"]
    rest = api.get("/api/registry/buildings", {"limit": 3, "after": first["next_after"]}).json()
    assert rest["next_after"] is None
    ids = [b["id"] for b in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 6  # 5 in grid1, 1 in grid2
    only_grid1 = api.get("/api/registry/buildings", {"region_id": world.grid1.pk, "limit": 200}).json()["items"]
    assert {b["region"]["id"] for b in only_grid1} == {world.grid1.pk} and len(only_grid1) == 5


def test_a_page_larger_than_200_is_refused(world, bearer):
    res = bearer(world.grid1_user).get("/api/registry/buildings", {"limit": 201})
    assert res.status_code == 422 and res.json()["field"] == "limit"


def test_create_edit_and_archive_a_building(world, bearer):
    api = bearer(world.grid1_user)
    res = api.post("/api/registry/buildings", {"region_id": world.grid1.pk, "estate": "新村", "number": "7号楼", "floors": 11}, content_type=JSON)
    assert res.status_code == 201, res.content
    bid = res.json()["id"]
    assert res.json()["number"] == "7" and res.json()["label"] == "新村7号楼"
    res = api.patch(f"/api/registry/buildings/{bid}", {"floors": 12, "units": 3}, content_type=JSON)
    assert res.json()["floors"] == 12 and res.json()["units"] == 3
    bad = api.patch(f"/api/registry/buildings/{bid}", {"floors": 900}, content_type=JSON)
    assert bad.status_code == 400 and bad.json()["code"] == "building_size"
    assert Building.objects.get(pk=bid).floors == 12
    res = api.delete(f"/api/registry/buildings/{bid}")
    assert res.status_code == 200 and res.json()["archived_at"]
    assert Building.objects.filter(pk=bid).exists()  # archived, not deleted
    assert api.get(f"/api/registry/buildings/{bid}").status_code == 404


def test_an_occupied_building_is_not_archived(world, bearer):
    res = bearer(world.grid1_user).delete(f"/api/registry/buildings/{world.g1.building.pk}")
    assert res.status_code == 409 and res.json()["code"] == "building_occupied"
    assert Building.objects.get(pk=world.g1.building.pk).archived_at is None


def test_a_duplicate_building_is_refused(world, bearer):
    res = bearer(world.grid1_user).post(
        "/api/registry/buildings", {"region_id": world.grid1.pk, "estate": "测试小区1", "number": "1"}, content_type=JSON
    )
    assert res.status_code == 400 and res.json()["code"] == "building_exists"


def test_buildings_only_go_into_grids(world, bearer):
    res = bearer(world.community1).post(
        "/api/registry/buildings", {"region_id": world.community.pk, "estate": "新村", "number": "1"}, content_type=JSON
    )
    assert res.status_code == 400 and res.json()["code"] == "region_not_grid"


def test_houses_by_building_and_create(world, bearer):
    api = bearer(world.grid1_user)
    b = world.g1.building
    listed = api.get("/api/registry/houses", {"building_id": b.pk}).json()["items"]
    assert {h["room"] for h in listed} == {"101", "202"}
    res = api.post("/api/registry/houses", {"building_id": b.pk, "unit": 2, "room": "502室", "use": "出租", "area": "88.5"}, content_type=JSON)
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["room"] == "502" and body["floor"] == 5 and body["use"] == "rented" and float(body["area"]) == 88.5
    res = api.patch(f"/api/registry/houses/{body['id']}", {"use": "vacant"}, content_type=JSON)
    assert res.json()["use"] == "vacant"
    bad = api.post("/api/registry/houses", {"building_id": b.pk, "unit": 9, "room": "101"}, content_type=JSON)
    assert bad.status_code == 400 and bad.json()["code"] == "house_unit"
    assert House.objects.filter(building=b).count() == 3


def test_households_by_house_with_members(world, bearer):
    api = bearer(world.grid1_user)
    h1 = world.g1.houses[0]
    listed = api.get("/api/registry/households", {"house_id": h1.pk}).json()["items"]
    assert [hh["id"] for hh in listed] == [world.g1.households[0].pk]
    detail = api.get(f"/api/registry/households/{listed[0]['id']}").json()
    assert detail["head_name"] == "张三"
    assert {(m["name"], m["relation"]) for m in detail["members"]} == {("张三", "head"), ("赵敏", "spouse")}
    assert all("*" in m["id_number"] for m in detail["members"])
    res = api.post("/api/registry/households", {"house_id": h1.pk, "number": "H-2"}, content_type=JSON)
    assert res.status_code == 201 and res.json()["number"] == "H-2"
    assert Household.objects.filter(house=h1).count() == 2


def test_organisations_crud_without_hard_delete(world, bearer):
    api = bearer(world.grid1_user)
    res = api.post(
        "/api/registry/organizations",
        {"region_id": world.grid1.pk, "name": "平江物业", "kind": "物业", "contact_phone": "138 1234 5678", "employees": 12},
        content_type=JSON,
    )
    assert res.status_code == 201, res.content
    org = res.json()
    assert org["kind"] == "property" and org["contact_phone"] == "138****5678"
    assert "12345678" not in res.content.decode()
    oid = org["id"]
    res = api.patch(f"/api/registry/organizations/{oid}", {"credit_code": "91320500MA1X0000X0"}, content_type=JSON)
    assert res.status_code == 400 and res.json()["code"] == "credit_code_invalid"
    res = api.patch(f"/api/registry/organizations/{oid}", {"address": "平江路2号"}, content_type=JSON)
    assert res.json()["address"] == "平江路2号"
    names = {o["name"] for o in api.get("/api/registry/organizations").json()["items"]}
    assert names == {"测试便利店1", "平江物业"}
    res = api.delete(f"/api/registry/organizations/{oid}")
    assert res.status_code == 200 and res.json()["archived_at"]
    assert Organization.objects.filter(pk=oid).exists()
    assert {o["name"] for o in api.get("/api/registry/organizations").json()["items"]} == {"测试便利店1"}
