"""Editing a building from its page: saved through the service, refused with a message."""

from registry.models import Building


def _post(client, building, **data):
    payload = {"b-estate": building.estate, "b-number": building.number, "b-address": building.address,
               "b-floors": building.floors, "b-units": building.units}
    payload.update({f"b-{k}": v for k, v in data.items()})
    return client.post(f"/registry/buildings/{building.pk}/edit/", payload)


def test_a_grid_worker_edits_a_building_of_their_grid(world, login):
    b = world.g1.building
    resp = _post(login(world.grid1_user), b, address="平江路 12 号", floors="11")
    assert resp.status_code == 302
    b.refresh_from_db()
    assert b.address == "平江路 12 号" and b.floors == 11


def test_fewer_units_than_the_houses_use_is_refused_and_nothing_changes(world, login):
    b = world.g1.building  # its houses use units 1 and 2
    resp = _post(login(world.grid1_user), b, units="1", floors="9")
    assert resp.status_code == 400
    assert "2" in resp.content.decode() and "单元" in resp.content.decode()
    b.refresh_from_db()
    assert b.units == 2 and b.floors == 6


def test_a_number_already_used_in_the_grid_is_refused(world, login):
    from registry import services

    other = services.create_building(None, grid=world.grid1, estate=world.g1.building.estate, number="2")
    resp = _post(login(world.grid1_user), other, number="1")
    assert resp.status_code == 400
    assert Building.objects.get(pk=other.pk).number == "2"


def test_the_sibling_grids_building_cannot_be_edited(world, login):
    resp = _post(login(world.grid1_user), world.g2.building, floors="30")
    assert resp.status_code == 404
    assert Building.objects.get(pk=world.g2.building.pk).floors == 6


def test_the_edit_form_is_on_the_page_filled_with_the_building(world, login):
    page = login(world.grid1_user).get(f"/registry/buildings/{world.g1.building.pk}/").content.decode()
    assert 'id="edit-building"' in page and 'value="测试小区1"' in page


def test_a_department_handler_cannot_edit(world, login):
    resp = _post(login(world.dept1), world.g1.building, floors="30")
    assert resp.status_code == 403
    assert Building.objects.get(pk=world.g1.building.pk).floors == 6


def test_a_house_use_and_area_are_changed_from_its_page(world, login):
    from auditlog.models import LogEntry


    h = world.g1.houses[0]
    client = login(world.grid1_user)
    resp = client.post(f"/registry/houses/{h.pk}/edit/", {"e-use": "rented", "e-area": "86.5"})
    assert resp.status_code == 302
    h.refresh_from_db()
    assert h.use == "rented" and str(h.area) == "86.50"
    assert LogEntry.objects.get_for_object(h).filter(changes__icontains="rented").exists()


def test_a_bad_house_use_is_refused_and_the_sibling_grids_house_is_not_found(world, login):
    from registry.models import House

    client = login(world.grid1_user)
    h = world.g1.houses[0]
    assert client.post(f"/registry/houses/{h.pk}/edit/", {"e-use": "castle"}).status_code == 400
    assert House.objects.get(pk=h.pk).use == "owner"
    other = world.g2.houses[0]
    assert client.post(f"/registry/houses/{other.pk}/edit/", {"e-use": "vacant"}).status_code == 404
    assert House.objects.get(pk=other.pk).use == "owner"
