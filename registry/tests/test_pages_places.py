"""The drill-down pages: grid → buildings → building → house → household, with their forms."""

from django.urls import reverse

from registry.models import Building, House, Household


def url(name, *args):
    return reverse(f"registry:{name}", args=args)


def test_grid_worker_drills_down_from_their_buildings_to_a_resident(world, login):
    c = login(world.grid1_user)
    g = world.g1
    body = c.get(url("building_list")).content.decode()  # defaults to the worker's grid
    assert "测试小区1" in body and url("building_detail", g.building.pk) in body and "测试小区2" not in body
    body = c.get(url("building_detail", g.building.pk)).content.decode()
    assert "1 单元" in body and "2 单元" in body and url("house_detail", g.houses[1].pk) in body
    body = c.get(url("house_detail", g.houses[0].pk)).content.decode()
    assert url("household_detail", g.households[0].pk) in body and "张三" in body
    body = c.get(url("household_detail", g.households[0].pk)).content.decode()
    assert "张三" in body and "赵敏" in body and "户主" in body
    assert g.residents[0].id_number_masked in body and g.residents[0].reveal_id_number() not in body
    assert url("resident_detail", g.residents[0].pk) in body
    assert "李四" not in body and world.g2.residents[0].id_number_masked not in body


def test_sibling_grid_places_are_not_found(world, login):
    c = login(world.grid1_user)
    g2 = world.g2
    assert c.get(url("building_list"), {"region": world.grid2.pk}).status_code == 404
    assert c.get(url("building_detail", g2.building.pk)).status_code == 404
    assert c.get(url("house_detail", g2.houses[0].pk)).status_code == 404
    assert c.get(url("household_detail", g2.households[0].pk)).status_code == 404
    assert c.get(url("resident_create", g2.households[0].pk)).status_code == 404
    assert c.post(url("building_detail", g2.building.pk), {"h-unit": 1, "h-room": "909", "h-use": "owner"}).status_code == 404
    assert not House.objects.filter(room="909").exists()


def test_community_worker_sees_the_grids_of_their_community(world, login):
    body = login(world.community1).get(url("building_list")).content.decode()
    assert "第一网格" in body and "第二网格" in body and "第三网格" not in body
    assert f"?region={world.grid1.pk}" in body


def test_department_handler_gets_403(world, login):
    c = login(world.dept1)
    assert c.get(url("building_list")).status_code == 403
    assert c.get(url("household_detail", world.g1.households[0].pk)).status_code == 403


def test_register_a_building_in_the_grid(world, login):
    c = login(world.grid1_user)
    resp = c.post(url("building_list"), {"b-grid": world.grid1.pk, "b-estate": "幸福家园", "b-number": "7号楼",
                                         "b-floors": "18", "b-units": "3", "b-address": "平江路1号"})
    b = Building.objects.get(estate="幸福家园")
    assert resp.status_code == 302 and resp["Location"] == url("building_detail", b.pk)
    assert (b.number, b.floors, b.units, b.region_id) == ("7", 18, 3, world.grid1.pk)


def test_a_bad_building_shows_messages_and_saves_nothing(world, login):
    c = login(world.grid1_user)
    before = Building.objects.count()
    resp = c.post(url("building_list"), {"b-grid": world.grid1.pk, "b-estate": "幸福家园", "b-number": "7", "b-floors": "500"})
    assert resp.status_code == 200 and "层数应为 1 至 200" in resp.content.decode()
    resp = c.post(url("building_list"), {"b-grid": world.grid1.pk, "b-estate": "测试小区1", "b-number": "1"})
    assert "该网格已登记过这栋楼" in resp.content.decode()
    # A grid outside the area is not among the choices.
    resp = c.post(url("building_list"), {"b-grid": world.grid2.pk, "b-estate": "幸福家园", "b-number": "8"})
    assert resp.status_code == 200 and "field-error" in resp.content.decode()
    assert Building.objects.count() == before


def test_add_a_house_and_a_household(world, login):
    c = login(world.grid1_user)
    b = world.g1.building
    resp = c.post(url("building_detail", b.pk), {"h-unit": "2", "h-room": "602", "h-use": "vacant", "h-area": "88.5"})
    assert resp.status_code == 302
    h = House.objects.get(building=b, room="602")
    assert (h.unit, h.floor, h.use) == (2, 6, "vacant")
    resp = c.post(url("building_detail", b.pk), {"h-unit": "9", "h-room": "101", "h-use": "owner"})
    assert "只有 1 至 2 单元" in resp.content.decode()
    resp = c.post(url("house_detail", h.pk), {"hh-number": "A-17"})
    hh = Household.objects.get(house=h)
    assert resp.status_code == 302 and resp["Location"] == url("household_detail", hh.pk) and hh.number == "A-17"


def test_household_history_lists_moves(world, login):
    from registry import services

    services.move_house(None, world.g1.residents[2], household=world.g1.households[0], relation="child", on="2024-02-02")
    body = login(world.grid1_user).get(url("household_detail", world.g1.households[0].pk)).content.decode()
    assert "搬迁" in body and "周杰" in body
