"""Every error comes back as {"code", "message", "message_en", "field"}; the schema says so."""

from django.utils import translation

from registry.models import Building

JSON = "application/json"


def _is_error(body, code):
    assert set(body) >= {"code", "message", "message_en"}
    assert body["code"] == code
    assert body["message"] and body["message_en"]


def test_invalid_json_is_422_in_the_error_format(world, bearer):
    res = bearer(world.grid1_user).post("/api/registry/buildings", b'{"region_id": 1, "estate": ', content_type=JSON)
    assert res.status_code == 422
    _is_error(res.json(), "invalid_json")


def test_a_wrong_type_names_the_field(world, bearer):
    res = bearer(world.grid1_user).post(
        "/api/registry/buildings", {"region_id": "first", "estate": "x", "number": "1"}, content_type=JSON
    )
    assert res.status_code == 422
    body = res.json()
    _is_error(body, "invalid_input")
    assert body["field"] == "region_id"
    assert res.json()["message"].startswith("输入有误")


def test_a_missing_field_names_the_field(world, bearer):
    res = bearer(world.grid1_user).post("/api/registry/buildings", {"estate": "x", "number": "1"}, content_type=JSON)
    assert res.status_code == 422 and res.json()["field"] == "region_id"


def test_a_non_numeric_id_in_the_path_is_422(world, bearer):
    res = bearer(world.grid1_user).get("/api/registry/residents/abc")
    assert res.status_code == 422 and res.json()["field"] == "resident_id"


def test_an_unknown_region_is_404_in_the_error_format(world, bearer):
    res = bearer(world.admin).post(
        "/api/registry/buildings", {"region_id": 987654, "estate": "x", "number": "1"}, content_type=JSON
    )
    assert res.status_code == 404
    _is_error(res.json(), "not_found")
    assert not Building.objects.filter(estate="x").exists()


def test_domain_errors_carry_both_languages(world, bearer):
    res = bearer(world.grid1_user).post(
        "/api/registry/buildings", {"region_id": world.grid1.pk, "estate": "", "number": "1"}, content_type=JSON
    )
    assert res.status_code == 400
    body = res.json()
    _is_error(body, "building_incomplete")
    assert body["field"] == "number"
    assert body["message_en"] == "A building needs an estate (or street) and a number."
    with translation.override("zh-hans"):
        assert body["message"] == translation.gettext("A building needs an estate (or street) and a number.")


def test_a_method_not_allowed_is_405(world, bearer):
    res = bearer(world.grid1_user).put(f"/api/registry/buildings/{world.g1.building.pk}", {}, content_type=JSON)
    assert res.status_code == 405
    _is_error(res.json(), "method_not_allowed")
    assert "PATCH" in res["Allow"]


def test_an_unknown_api_address_is_404_in_the_error_format(world, bearer):
    res = bearer(world.grid1_user).get("/api/registry/nothing-here")
    assert res.status_code == 404
    _is_error(res.json(), "not_found")


def test_openapi_declares_the_error_responses_of_every_operation(world, client):
    res = client.get("/api/openapi.json")
    assert res.status_code == 200
    doc = res.json()
    assert "ErrorOut" in doc["components"]["schemas"]
    operations = [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]
    assert len(operations) >= 40
    for path, method, op in operations:
        for code in ("400", "401", "403", "404", "409", "422"):
            assert code in op["responses"], f"{method.upper()} {path} does not declare {code}"
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, code)
        assert any(c.startswith("2") for c in op["responses"]), f"{method.upper()} {path} declares no success"
    export = doc["paths"]["/api/registry/export"]["get"]["responses"]["200"]["content"]
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in export


def test_openapi_never_describes_ciphertexts_or_blind_indexes(world, client):
    text = client.get("/api/openapi.json").content.decode()
    assert "_enc" not in text and "_bidx" not in text
