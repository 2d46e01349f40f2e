"""The web pages' htmx calls use the session cookie; unsafe methods need Django's CSRF token."""

from django.test import Client

from registry.models import Building

JSON = "application/json"
TOKEN = "a" * 32


def _session_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = TOKEN
    return client


def test_a_signed_in_page_reads_with_its_session(world):
    client = _session_client(world.grid1_user)
    res = client.get("/api/registry/buildings")
    assert res.status_code == 200
    assert [b["id"] for b in res.json()["items"]] == [world.g1.building.pk]


def test_a_session_write_with_the_csrf_token_goes_through(world):
    client = _session_client(world.grid1_user)
    res = client.patch(
        f"/api/registry/buildings/{world.g1.building.pk}", {"address": "平江路9号"}, content_type=JSON, headers={"X-CSRFToken": TOKEN}
    )
    assert res.status_code == 200, res.content
    assert Building.objects.get(pk=world.g1.building.pk).address == "平江路9号"


def test_a_session_write_without_the_csrf_token_is_refused(world):
    client = _session_client(world.grid1_user)
    res = client.patch(f"/api/registry/buildings/{world.g1.building.pk}", {"address": "平江路9号"}, content_type=JSON)
    assert res.status_code == 403
    assert res.json()["code"] == "csrf_failed"
    assert Building.objects.get(pk=world.g1.building.pk).address == ""


def test_a_bearer_client_needs_no_csrf_token(world, bearer):
    api = bearer(world.grid1_user)
    api.handler.enforce_csrf_checks = True
    res = api.patch(f"/api/registry/buildings/{world.g1.building.pk}", {"address": "平江路9号"}, content_type=JSON)
    assert res.status_code == 200


def test_without_session_or_token_a_write_is_401_not_a_csrf_complaint(world):
    client = Client(enforce_csrf_checks=True)
    res = client.post("/api/registry/buildings", {"region_id": world.grid1.pk}, content_type=JSON)
    assert res.status_code == 401 and res.json()["code"] == "unauthenticated"
