"""The work-order JSON API: scope, every step, conflicts, forms with photos, notifications."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from accounts.services import issue_token
from workorders import services as wo
from workorders.models import ApprovalRequest, Category, Notification, Rating, Source, Status, Transition, WorkOrder
from workorders.testing import make_categories

pytestmark = pytest.mark.django_db
JSON = "application/json"
BASE = "/api/workorders"


@pytest.fixture
def cats(world):
    return make_categories(world)


@pytest.fixture
def bearer(db):
    def _bearer(user):
        key, _row = issue_token(user)
        return Client(headers={"Authorization": f"Bearer {key}"})

    return _bearer


def _png(name="photo.png"):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def _report(world, cats, **extra):
    data = dict(category=cats["litter"], source=Source.PORTAL, description="楼下垃圾堆了三天", lat=31.305, lng=120.605, attributes={"amount": "large"})
    data.update(extra)
    return wo.report(world.resident1, **data)


_STEP = re.compile(r"^/orders/(\d+)/[a-z_]+$")


def _post(api, path, data=None):
    """POST as a client that read the order first: a step carries the version it saw."""
    data = dict(data or {})
    step = _STEP.match(path)
    if step and "version" not in data:
        data["version"] = WorkOrder.objects.get(pk=step[1]).version
    return api.post(BASE + path, data, content_type=JSON)


# ---------------------------------------------------------------- categories


def test_it_lists_the_category_tree(world, cats, bearer):
    res = bearer(world.resident1).get(BASE + "/categories")
    assert res.status_code == 200
    tree = res.json()
    group = next(n for n in tree if n["code"] == "incident")
    assert group["is_group"] and {c["code"] for c in group["children"]} == {"env.litter", "order.dispute", "facility.road"}
    litter = next(c for c in group["children"] if c["code"] == "env.litter")
    assert litter["has_attributes"] is True


def test_one_category_carries_its_attribute_schema(world, cats, bearer):
    res = bearer(world.resident1).get(BASE + "/categories/env.litter")
    assert res.status_code == 200
    body = res.json()
    assert body["parent"]["code"] == "incident"
    amount = body["attributes"][0]
    assert amount["code"] == "amount" and amount["required"] and amount["datatype"] == "singlevaluelist"
    assert {"key": "large", "name": "大量"} in amount["values"]
    assert bearer(world.resident1).get(BASE + "/categories/no.such").status_code == 404


def test_an_edited_category_is_seen_at_once(world, cats, bearer):
    api = bearer(world.resident1)
    assert api.get(BASE + "/categories/env.litter").json()["name"] == "暴露垃圾"
    cats["litter"].name = "垃圾暴露"
    cats["litter"].save()
    assert api.get(BASE + "/categories/env.litter").json()["name"] == "垃圾暴露"


# ---------------------------------------------------------------- intake


def test_a_resident_reports_with_json(world, cats, bearer):
    res = _post(bearer(world.resident1), "/orders", {
        "category": "env.litter", "description": "楼道口垃圾", "lat": 31.305, "lng": 120.605, "attributes": {"amount": "small", "bags": 2},
    })
    assert res.status_code == 201, res.content
    body = res.json()
    order = WorkOrder.objects.get(pk=body["id"])
    assert order.reporter == world.resident1 and order.source == Source.PORTAL and order.region == world.grid1
    assert order.attributes == {"amount": "small", "bags": 2}
    assert body["number"] == order.number and body["status"] == "reported" and body["version"] == 1
    assert body["handler_region"]["id"] == world.community.pk


def test_a_grid_worker_reports_with_photos_in_a_form(world, cats, bearer):
    res = bearer(world.grid1_user).post(BASE + "/orders", {
        "category": "env.litter", "region_id": str(world.grid1.pk), "attribute[amount]": "large", "files": [_png("a.png"), _png("b.png")],
    })
    assert res.status_code == 201, res.content
    order = WorkOrder.objects.get(pk=res.json()["id"])
    assert order.source == Source.GRID and order.attachments.count() == 2
    detail = bearer(world.grid1_user).get(f"{BASE}/orders/{order.pk}").json()
    assert detail["attachments"][0]["url"].startswith("http://testserver/media/")
    assert detail["attachments"][0]["thumbnail_url"]


def test_a_bad_report_is_refused_with_the_field_and_nothing_is_created(world, cats, bearer):
    api = bearer(world.resident1)
    res = _post(api, "/orders", {"category": "env.litter", "lat": 31.305, "lng": 120.605})
    assert res.status_code == 400
    assert res.json()["code"] == "attribute_required" and res.json()["field"] == "attribute[amount]" and "垃圾量" in res.json()["message"]
    res = _post(api, "/orders", {"category": "no.such", "lat": 31.305, "lng": 120.605})
    assert res.status_code == 400 and res.json()["code"] == "category_unknown"
    res = _post(api, "/orders", {"category": "env.litter", "lat": 39.9, "lng": 116.4, "attributes": {"amount": "small"}})
    assert res.status_code == 400 and res.json()["code"] == "location_outside"
    res = _post(api, "/orders", {"category": "env.litter", "lat": "north"})
    assert res.status_code == 422 and res.json()["field"] == "lat"
    res = api.post(BASE + "/orders", {"category": "env.litter", "attribute[amount]": "small", "region_id": world.grid1.pk,
                                      "files": [SimpleUploadedFile("x.exe", b"MZ\x90\x00" * 10)]})
    assert res.status_code == 400 and res.json()["code"] == "upload_type"
    assert WorkOrder.objects.count() == 0


def test_staff_cannot_enter_a_call_for_a_place_outside_their_area(world, cats, bearer):
    res = _post(bearer(world.grid1_user), "/orders", {
        "category": "env.litter", "region_id": world.grid2.pk, "source": "grid", "attributes": {"amount": "small"},
    })
    assert res.status_code == 403
    assert WorkOrder.objects.count() == 0


def test_a_grid_worker_settles_on_the_spot(world, cats, bearer):
    res = bearer(world.grid1_user).post(BASE + "/orders/settle", {
        "category": "env.litter", "region_id": world.grid1.pk, "note": "当场清理", "attribute[amount]": "small",
        "files": [_png()], "after_files": [_png("after.png")],
    })
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["status"] == "closed" and body["settled_on_spot"]
    assert [a["role"] for a in body["attachments"]] == ["before", "after"]


def test_creating_an_order_takes_a_bounded_number_of_queries(world, cats, bearer):
    api = bearer(world.resident1)
    payload = {"category": "env.litter", "lat": 31.305, "lng": 120.605, "attributes": {"amount": "small"}}
    assert _post(api, "/orders", payload).status_code == 201  # warms the category cache
    with CaptureQueriesContext(connection) as ctx:
        assert _post(api, "/orders", payload).status_code == 201
    category_reads = [q["sql"] for q in ctx.captured_queries if 'FROM "workorders_category"' in q["sql"] or 'FROM "workorders_categoryattribute"' in q["sql"]]
    assert category_reads == []
    # token, roles, place, handler unit, desk's dispatchers, savepoints, the order, its report step,
    # the notifications: 11 today (it was 27 before rules were cached per process)
    assert len(ctx.captured_queries) <= 14, "\n".join(q["sql"] for q in ctx.captured_queries)


# ---------------------------------------------------------------- scope


def test_lists_hold_only_orders_in_the_area(world, cats, bearer):
    mine = _report(world, cats)
    other = _report(world, cats, lat=31.305, lng=120.615)  # grid2
    ids = lambda res: {o["id"] for o in res.json()["items"]}  # noqa: E731
    assert ids(bearer(world.grid1_user).get(BASE + "/orders")) == {mine.pk}
    assert ids(bearer(world.grid2_user).get(BASE + "/orders")) == {other.pk}
    assert ids(bearer(world.community1).get(BASE + "/orders")) == {mine.pk, other.pk}
    assert ids(bearer(world.resident1).get(BASE + "/orders", {"mine": "reported"})) == {mine.pk, other.pk}


def test_an_order_outside_the_area_is_not_found_and_untouched(world, cats, bearer):
    other = _report(world, cats, lat=31.305, lng=120.615)  # grid2
    api = bearer(world.grid1_user)
    assert api.get(f"{BASE}/orders/{other.pk}").status_code == 404
    res = _post(api, f"/orders/{other.pk}/file")
    assert res.status_code == 404 and res.json()["code"] == "not_found"
    assert "垃圾" not in res.content.decode()
    other.refresh_from_db()
    assert other.status == Status.REPORTED
    assert api.get(BASE + "/orders", {"region_id": world.grid2.pk}).status_code == 404


def test_the_list_filters_and_pages_newest_first(world, cats, bearer):
    orders = [_report(world, cats) for _ in range(5)]
    wo.file(world.community1, orders[0])
    api = bearer(world.community1)
    page = api.get(BASE + "/orders", {"limit": 2}).json()
    assert [o["id"] for o in page["items"]] == [orders[4].pk, orders[3].pk]
    page2 = api.get(BASE + "/orders", {"limit": 2, "after": page["next_after"]}).json()
    assert [o["id"] for o in page2["items"]] == [orders[2].pk, orders[1].pk]
    last = api.get(BASE + "/orders", {"limit": 2, "after": page2["next_after"]}).json()
    assert [o["id"] for o in last["items"]] == [orders[0].pk] and last["next_after"] is None
    assert [o["id"] for o in api.get(BASE + "/orders", {"status": "filed"}).json()["items"]] == [orders[0].pk]
    assert len(api.get(BASE + "/orders", {"status": "open", "category": "incident"}).json()["items"]) == 5
    assert api.get(BASE + "/orders", {"overdue": "true"}).json()["items"] == []
    assert len(api.get(BASE + "/orders", {"desk_id": world.community.pk}).json()["items"]) == 5
    assert len(api.get(BASE + "/orders", {"region_id": world.grid1.pk}).json()["items"]) == 5
    res = api.get(BASE + "/orders", {"status": "lost"})
    assert res.status_code == 400 and res.json()["code"] == "status_unknown"


# ---------------------------------------------------------------- the steps


def test_every_step_of_the_closed_loop(world, cats, bearer):
    resident, desk, grid = bearer(world.resident1), bearer(world.community1), bearer(world.grid1_user)
    order_id = _post(resident, "/orders", {"category": "env.litter", "lat": 31.305, "lng": 120.605, "attributes": {"amount": "large"}}).json()["id"]
    path = f"/orders/{order_id}"

    def step(api, action, data=None):
        res = _post(api, f"{path}/{action}", data)
        assert res.status_code == 200, (action, res.content)
        return res.json()

    assert step(desk, "file", {"version": 1, "urgent": True})["status"] == "filed"
    assert step(desk, "dispatch", {"assignee_id": world.grid1_user.pk, "note": "请处理"})["assignee"]["id"] == world.grid1_user.pk
    assert step(grid, "start")["status"] == "in_progress"
    body = step(grid, "requests", {"kind": "extension", "reason": "等清运车", "hours": 4})
    assert body["requests"][0]["status"] == "pending"
    body = step(desk, "decide", {"approve": True, "note": "同意"})
    assert body["requests"][0]["status"] == "approved" and body["extension_count"] == 1
    res = grid.post(f"{BASE}{path}/handle", {"note": "已清运", "version": WorkOrder.objects.get(pk=order_id).version, "files": [_png("after.png")]})
    assert res.status_code == 200 and res.json()["status"] == "handled"
    assert res.json()["attachments"][0]["role"] == "after"
    assert step(desk, "verify", {"passed": False, "note": "还有一袋"})["status"] == "in_progress"
    step(grid, "handle", {"note": "全部清完"})
    assert step(desk, "verify", {"passed": True})["status"] == "verified"
    assert step(desk, "close", {"note": "结案"})["status"] == "closed"
    step(resident, "confirm", {"note": "好的"})
    body = step(resident, "rate", {"score": 4, "comment": "还行"})
    assert body["rating"]["score"] == 4
    body = step(resident, "reopen", {"reason": "又堆起来了"})
    assert body["status"] == "filed" and body["rating"] is None
    actions = [t["action"] for t in body["transitions"]]
    assert actions == ["report", "file", "dispatch", "start", "request_extension", "approve_extension", "handle", "rework",
                       "handle", "verify", "close", "confirm", "rate", "reopen"]


def test_void_duplicate_escalate_suspend_and_resume(world, cats, bearer):
    desk, grid = bearer(world.community1), bearer(world.grid1_user)
    first, second, third, fourth = (_report(world, cats) for _ in range(4))
    res = _post(desk, f"/orders/{first.pk}/void", {"note": "恶作剧"})
    assert res.json()["status"] == "voided"
    res = _post(desk, f"/orders/{second.pk}/duplicate", {"of": third.number})
    assert res.json()["status"] == "duplicate" and res.json()["duplicate_of"] == third.pk
    res = _post(desk, f"/orders/{third.pk}/escalate", {"note": "社区处理不了"})
    assert res.status_code == 200 and res.json()["handler_region"]["id"] == world.street.pk
    wo.file(world.community1, fourth)
    wo.dispatch(world.community1, fourth, assignee=world.grid1_user)
    _post(grid, f"/orders/{fourth.pk}/requests", {"kind": "suspension", "reason": "业主出国"})
    assert _post(desk, f"/orders/{fourth.pk}/decide", {"approve": True}).json()["status"] == "suspended"
    assert _post(desk, f"/orders/{fourth.pk}/resume").json()["status"] == "dispatched"


def test_a_step_needing_a_note_or_a_known_original_says_so(world, cats, bearer):
    desk = bearer(world.community1)
    order = _report(world, cats)
    res = _post(desk, f"/orders/{order.pk}/void", {})
    assert res.status_code == 422 and res.json()["field"] == "note"
    res = _post(desk, f"/orders/{order.pk}/void", {"note": " "})
    assert res.status_code == 400 and res.json()["code"] == "note_required"
    res = _post(desk, f"/orders/{order.pk}/duplicate", {"of": "202001019999999"})
    assert res.status_code == 400 and res.json()["code"] == "duplicate_unknown"
    order.refresh_from_db()
    assert order.status == Status.REPORTED and order.version == 1


def test_a_stale_version_is_a_conflict_and_changes_nothing(world, cats, bearer):
    desk = bearer(world.community1)
    order = _report(world, cats)
    assert _post(desk, f"/orders/{order.pk}/file", {"version": 1}).status_code == 200
    res = _post(desk, f"/orders/{order.pk}/dispatch", {"version": 1, "assignee_id": world.grid1_user.pk})
    assert res.status_code == 409 and res.json()["code"] == "order_changed"
    order.refresh_from_db()
    assert order.status == Status.FILED and order.version == 2


def test_a_stale_version_also_guards_the_reporters_steps(world, cats, bearer):
    order = _report(world, cats)
    wo.file(world.community1, order)
    wo.dispatch(world.community1, order, assignee=world.grid1_user)
    wo.handle(world.grid1_user, order, note="ok")
    wo.verify(world.community1, order, passed=True)
    wo.close(world.community1, order)
    res = _post(bearer(world.resident1), f"/orders/{order.pk}/rate", {"score": 5, "version": 1})
    assert res.status_code == 409 and not Rating.objects.filter(order=order).exists()


def test_a_step_not_allowed_now_is_a_conflict(world, cats, bearer):
    order = _report(world, cats)
    res = _post(bearer(world.community1), f"/orders/{order.pk}/close")
    assert res.status_code == 409 and res.json()["code"] == "transition_not_allowed"
    assert Transition.objects.filter(order=order).count() == 1


def test_a_dispatch_to_someone_outside_the_area_is_refused_without_naming_them(world, cats, bearer):
    order = _report(world, cats)
    wo.file(world.community1, order)
    for assignee in (world.grid2_user.pk, 999999):
        res = _post(bearer(world.community1), f"/orders/{order.pk}/dispatch", {"assignee_id": assignee})
        assert res.status_code == 400 and res.json()["code"] == "handler_out_of_scope"
        assert "grid2" not in res.content.decode()
    order.refresh_from_db()
    assert order.status == Status.FILED


def test_the_wrong_person_is_forbidden(world, cats, bearer):
    order = _report(world, cats)
    res = _post(bearer(world.resident1), f"/orders/{order.pk}/file")
    assert res.status_code == 403
    res = _post(bearer(world.grid1_user), f"/orders/{order.pk}/decide", {"approve": True})
    assert res.status_code == 404 and res.json()["code"] == "request_not_found"
    assert not ApprovalRequest.objects.exists()


# ---------------------------------------------------------------- notifications


def test_my_notifications_and_marking_them_read(world, cats, bearer):
    order = _report(world, cats)
    api = bearer(world.community1)
    body = api.get(BASE + "/notifications").json()
    assert body["unread"] == 1 and body["items"][0]["order_id"] == order.pk
    assert _post(api, "/notifications/read", {"ids": [body["items"][0]["id"]]}).json() == {"marked": 1}
    assert api.get(BASE + "/notifications", {"unread": "true"}).json()["items"] == []
    assert _post(api, "/notifications/read", {"ids": [10**30]}).status_code == 422
    # someone else's notifications are not marked
    assert _post(bearer(world.grid1_user), "/notifications/read").json() == {"marked": 0}
    assert Notification.objects.filter(read_at__isnull=True).count() == Notification.objects.exclude(user=world.community1).count()


# ---------------------------------------------------------------- schema


def test_the_schema_lists_the_error_responses_and_both_body_kinds(world, client):
    doc = client.get("/api/openapi.json").json()
    ops = {(p, m): op for p, methods in doc["paths"].items() if p.startswith(BASE) for m, op in methods.items()}
    assert len(ops) >= 22
    for (p, m), op in ops.items():
        for code in ("400", "401", "403", "404", "409", "422"):
            assert code in op["responses"], (p, m, code)
    create = doc["paths"][BASE + "/orders"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(create)
    assert "files" in create["multipart/form-data"]["schema"]["properties"]
    assert "version" in doc["paths"][BASE + "/orders/{order_id}/dispatch"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]


def test_a_resident_is_not_invited_to_report_a_one_window_item(world, cats, bearer):
    """One-window items are applied for at the community's window: the category list a resident
    gets leaves them out, and a report of one is refused with where to go instead."""
    from workorders.services.seed import seed_categories

    seed_categories()
    resident = bearer(world.resident1)
    kinds = {node["kind"] for node in resident.get(BASE + "/categories").json()}
    assert "service" not in kinds
    assert any(n["kind"] == "service" for n in bearer(world.community1).get(BASE + "/categories").json())
    item = Category.objects.filter(kind="service", is_group=False, channel__in=["online", "both"]).first()
    before = WorkOrder.objects.count()
    res = _post(resident, "/orders", {"category": item.code, "lat": 31.305, "lng": 120.605})
    assert res.status_code == 400 and res.json()["code"] == "service_at_window" and item.name in res.json()["message"]
    assert WorkOrder.objects.count() == before
