"""grid1's token never sees grid2's rows; people without registry roles see none."""

import pytest

from accounts.models import PersonalDataAccess

JSON = "application/json"


def _ids(res):
    assert res.status_code == 200, res.content
    return {row["id"] for row in res.json()["items"]}


def test_lists_hold_only_the_own_grid(world, bearer):
    api = bearer(world.grid1_user)
    assert _ids(api.get("/api/registry/buildings")) == {world.g1.building.pk}
    assert _ids(api.get("/api/registry/houses")) == {h.pk for h in world.g1.houses}
    assert _ids(api.get("/api/registry/households")) == {h.pk for h in world.g1.households}
    assert _ids(api.get("/api/registry/residents", {"status": "all"})) == {r.pk for r in world.g1.residents}
    assert _ids(api.get("/api/registry/organizations")) == {world.g1.org.pk}
    text = api.get("/api/registry/residents").content.decode()
    for r in world.g2.residents:
        assert r.name not in text and r.id_number_masked not in text


@pytest.mark.parametrize(
    "url",
    [
        "/api/registry/buildings/{b}",
        "/api/registry/houses/{h}",
        "/api/registry/households/{hh}",
        "/api/registry/residents/{r}",
        "/api/registry/residents/{r}/history",
        "/api/registry/organizations/{o}",
        "/api/regions/{g}",
    ],
)
def test_details_of_the_sibling_grid_are_not_found(world, bearer, url):
    g2 = world.g2
    res = bearer(world.grid1_user).get(
        url.format(b=g2.building.pk, h=g2.houses[0].pk, hh=g2.households[0].pk, r=g2.residents[0].pk, o=g2.org.pk, g=world.grid2.pk)
    )
    assert res.status_code == 404
    assert res.json()["code"] == "not_found"
    assert g2.residents[0].name not in res.content.decode()


def test_changes_to_the_sibling_grid_are_not_found_and_change_nothing(world, bearer):
    api = bearer(world.grid1_user)
    r = world.g2.residents[0]
    assert api.patch(f"/api/registry/residents/{r.pk}", {"name": "改名"}, content_type=JSON).status_code == 404
    assert api.post(f"/api/registry/residents/{r.pk}/move-out", {}, content_type=JSON).status_code == 404
    assert api.delete(f"/api/registry/organizations/{world.g2.org.pk}").status_code == 404
    res = api.post("/api/registry/buildings", {"region_id": world.grid2.pk, "estate": "x", "number": "9"}, content_type=JSON)
    assert res.status_code == 404
    res = api.post("/api/registry/residents", {"household_id": world.g2.households[0].pk, "name": "某人", "id_number": "11010519491231002X"},
                   content_type=JSON)
    assert res.status_code == 404
    r.refresh_from_db()
    assert r.name == "李四" and r.status == "active"


def test_search_by_exact_id_number_of_the_sibling_grid_finds_nothing(world, bearer):
    number = world.g2.residents[0].reveal_id_number()
    res = bearer(world.grid1_user).get("/api/registry/residents", {"q": number})
    assert res.status_code == 200 and res.json()["items"] == []
    # while the community worker above both grids finds the person
    assert len(bearer(world.community1).get("/api/registry/residents", {"q": number}).json()["items"]) == 1


def test_filters_by_a_region_outside_scope_are_not_found(world, bearer):
    api = bearer(world.grid1_user)
    assert api.get("/api/registry/residents", {"region_id": world.grid2.pk}).status_code == 404
    assert api.get("/api/registry/buildings", {"region_id": world.community.pk}).status_code == 404
    assert api.get("/api/registry/houses", {"building_id": world.g2.building.pk}).status_code == 404


def test_reveal_outside_scope_is_not_found_and_not_logged(world, bearer):
    r = world.g2.residents[0]
    res = bearer(world.grid1_user).post(f"/api/registry/residents/{r.pk}/reveal", {"field": "id_number"}, content_type=JSON)
    assert res.status_code == 404
    assert r.reveal_id_number() not in res.content.decode()
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.parametrize("who", ["resident1", "dept1"])
def test_residents_and_departments_cannot_list_residents(world, bearer, who):
    api = bearer(getattr(world, who))
    for url in ("/api/registry/residents", "/api/registry/buildings", f"/api/registry/residents/{world.g1.residents[0].pk}"):
        res = api.get(url)
        assert res.status_code == 403, url
        assert res.json()["code"] == "forbidden"
        assert "张三" not in res.content.decode()


def test_a_resident_account_sees_no_places(world, bearer):
    assert bearer(world.resident1).get("/api/regions/").json()["items"] == []
