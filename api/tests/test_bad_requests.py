"""Bad requests get a 4xx in the error format and change nothing: bodies that are not JSON
objects, multipart bodies without their boundary, numbers too large for the database; and a
server error never shows a traceback to an API client."""

import json

import pytest

from registry.models import Resident, ResidentStatus
from workorders.models import Transition, WorkOrder

NOT_OBJECTS = [[None, None], [1], "abc", 5, None, True]


@pytest.mark.parametrize("body", NOT_OBJECTS, ids=[repr(b) for b in NOT_OBJECTS])
def test_a_body_that_is_not_an_object_is_refused_and_the_registry_is_unchanged(world, bearer, body):
    api = bearer(world.grid1_user)
    spouse = world.g1.residents[1]
    for path, method in ((f"/api/registry/residents/{spouse.pk}/death", "post"), (f"/api/registry/residents/{spouse.pk}/move-out", "post"),
                         (f"/api/registry/residents/{spouse.pk}", "patch")):
        r = getattr(api, method)(path, data=json.dumps(body), content_type="application/json")
        assert r.status_code == 422, (path, r.content)
        assert r.json()["code"] == "invalid_body" and r.json()["message"] == "请求体必须是一个 JSON 对象。"
    fresh = Resident.objects.get(pk=spouse.pk)
    assert fresh.status == ResidentStatus.ACTIVE and fresh.household_id == spouse.household_id and fresh.name == spouse.name


def test_a_multipart_body_without_its_boundary_is_422_not_500(world, bearer):
    from workorders.testing import make_categories

    cats = make_categories(world)
    api = bearer(world.grid1_user)
    r = api.post("/api/workorders/orders", data=b"--x\r\n", content_type="multipart/form-data")
    assert r.status_code == 422 and r.json()["code"] == "invalid_form"
    from workorders import services as wo
    from workorders.models import Source

    order = wo.report(world.grid1_user, category=cats["dispute"], source=Source.GRID, region=world.grid1, title="纠纷")
    before = Transition.objects.filter(order=order).count()
    for step in ("start", "close", "void", "escalate", "resume"):
        r = api.post(f"/api/workorders/orders/{order.pk}/{step}", data=b"--x\r\n", content_type="multipart/form-data")
        assert 400 <= r.status_code < 500 and r.json()["code"], (step, r.status_code, r.content[:200])
    r = api.post("/api/workorders/notifications/read", data=b"--x\r\n", content_type="multipart/form-data")
    assert 400 <= r.status_code < 500
    assert Transition.objects.filter(order=order).count() == before
    assert WorkOrder.objects.get(pk=order.pk).status == order.status


def test_a_number_too_large_for_the_database_is_422(world, bearer):
    api = bearer(world.grid1_user)
    r = api.get("/api/fieldwork/bundle?grid=29995014458438636797952")
    assert 400 <= r.status_code < 500 and r.json()["code"]


def test_a_server_error_answers_in_the_error_format_without_a_traceback(world, bearer, settings, monkeypatch):
    from accounts import services

    settings.DEBUG = True

    def broken(user, **_kw):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "issue_token", broken)
    from django.test import Client

    r = Client(raise_request_exception=False).post("/api/auth/token", {"username": "grid1", "password": "linli-demo"},
                                                   content_type="application/json")
    assert r.status_code == 500 and r.json()["code"] == "server_error"
    assert "secret internals" not in r.content.decode() and "Traceback" not in r.content.decode()
