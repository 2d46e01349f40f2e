import datetime as dt

from accounts.models import PersonalDataAccess
from registry.models import CareTag, EventKind, Resident, ResidentStatus, ResidentTag
from registry.services import idnumber

JSON = "application/json"


def _register(api, household, **extra):
    payload = {
        "household_id": household.pk,
        "relation": "子女",
        "date": "2024/5/1",
        "name": "张小明",
        "id_number": idnumber.make("320508", dt.date(2010, 6, 1), "M", 300),
        "phone": "13912345678",
        **extra,
    }
    return api.post("/api/registry/residents", payload, content_type=JSON)


def test_it_registers_a_person_into_a_household(world, bearer):
    api = bearer(world.grid1_user)
    hh = world.g1.households[0]
    res = _register(api, hh)
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["household_id"] == hh.pk and body["relation"] == "child" and body["gender"] == "M"
    assert body["birth_date"] == "2010-06-01"
    assert body["id_number"].startswith("3205") and "*" in body["id_number"]
    assert body["phone"] == "139****5678"
    text = res.content.decode()
    r = Resident.objects.get(pk=body["id"])
    assert r.id_number_enc not in text and r.id_number_bidx not in text and "13912345678" not in text
    assert r.events.get().kind == EventKind.MOVE_IN and r.events.get().date == dt.date(2024, 5, 1)


def test_a_bad_checksum_is_refused_in_the_error_format(world, bearer):
    api = bearer(world.grid1_user)
    good = idnumber.make("320508", dt.date(2010, 6, 1), "M", 300)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = Resident.objects.count()
    res = _register(api, world.g1.households[0], id_number=bad)
    assert res.status_code == 400
    body = res.json()
    assert body["code"] == "id_number_checksum" and body["field"] == "id_number"
    assert body["message"] and body["message_en"]
    assert Resident.objects.count() == before


def test_a_second_registration_of_an_id_number_is_a_conflict(world, bearer):
    api = bearer(world.grid1_user)
    number = world.g1.residents[0].reveal_id_number()
    res = _register(api, world.g1.households[1], id_number=number)
    assert res.status_code == 409 and res.json()["code"] == "id_number_taken"
    assert number not in res.content.decode()


def test_search_by_name_pinyin_id_number_and_tag(world, bearer):
    api = bearer(world.community1)
    assert [r["name"] for r in api.get("/api/registry/residents", {"q": "zs"}).json()["items"]] == ["张三"]
    number = world.g2.residents[0].reveal_id_number()
    found = api.get("/api/registry/residents", {"q": number}).json()
    assert found["query_kind"] == "id_number" and [r["name"] for r in found["items"]] == ["李四"]
    ResidentTag.objects.create(
        resident=world.g1.residents[1], tag=CareTag.objects.get_or_create(code="dibao", defaults={"name": "低保"})[0], start_date=dt.date(2024, 1, 1),
        region_path=world.grid1.path,
    )
    tagged = api.get("/api/registry/residents", {"tag": "dibao"}).json()["items"]
    assert [r["name"] for r in tagged] == ["赵敏"] and "dibao" in [t["code"] for t in tagged[0]["tags"]]
    grid2_only = api.get("/api/registry/residents", {"region_id": world.grid2.pk}).json()["items"]
    assert {r["name"] for r in grid2_only} == {"李四", "钱芳", "吴刚"}


def test_residents_page_by_keyset(world, bearer):
    api = bearer(world.community1)
    first = api.get("/api/registry/residents", {"limit": 4}).json()
    assert len(first["items"]) == 4 and first["next_after"]
    second = api.get("/api/registry/residents", {"limit": 4, "after": first["next_after"]}).json()
    assert len(second["items"]) == 2 and second["next_after"] is None


def test_edit_with_a_stale_version_is_refused(world, bearer):
    api = bearer(world.grid1_user)
    r = world.g1.residents[0]
    detail = api.get(f"/api/registry/residents/{r.pk}").json()
    res = api.patch(f"/api/registry/residents/{r.pk}", {"phone": "13700001111", "expected_updated_at": detail["updated_at"]}, content_type=JSON)
    assert res.status_code == 200 and res.json()["phone"] == "137****1111"
    stale = api.patch(f"/api/registry/residents/{r.pk}", {"name": "张三丰", "expected_updated_at": detail["updated_at"]}, content_type=JSON)
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    assert Resident.objects.get(pk=r.pk).name == "张三"
    bad = api.patch(f"/api/registry/residents/{r.pk}", {"phone": "12345"}, content_type=JSON)
    assert bad.status_code == 400 and bad.json()["code"] == "phone_invalid" and bad.json()["field"] == "phone"


def test_move_out_return_move_house_and_death(world, bearer):
    api = bearer(world.grid1_user)
    r = world.g1.residents[2]
    res = api.post(f"/api/registry/residents/{r.pk}/move-out", {"date": "2024-05-01", "note": "搬走"}, content_type=JSON)
    assert res.status_code == 200 and res.json()["status"] == "moved_out" and res.json()["household_id"] is None
    again = api.post(f"/api/registry/residents/{r.pk}/move-out", {}, content_type=JSON)
    assert again.status_code == 400 and again.json()["code"] == "resident_not_active"
    back = api.post(f"/api/registry/residents/{r.pk}/return", {"household_id": world.g1.households[1].pk, "relation": "head"}, content_type=JSON)
    assert back.status_code == 200 and back.json()["status"] == "active"
    moved = api.post(
        f"/api/registry/residents/{r.pk}/move-house", {"household_id": world.g1.households[0].pk, "relation": "tenant"}, content_type=JSON
    )
    assert moved.status_code == 200 and moved.json()["household_id"] == world.g1.households[0].pk
    dead = api.post(f"/api/registry/residents/{r.pk}/death", {"date": "2024-06-01"}, content_type=JSON)
    assert dead.status_code == 200 and dead.json()["status"] == ResidentStatus.DECEASED
    kinds = list(Resident.objects.get(pk=r.pk).events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["move_in", "move_out", "move_in", "move_house", "death"]
    future = api.post(f"/api/registry/residents/{world.g1.residents[0].pk}/death", {"date": "2999-01-01"}, content_type=JSON)
    assert future.status_code == 400 and future.json()["code"] == "date_future"


def test_moving_into_a_household_outside_scope_is_404(world, bearer):
    api = bearer(world.grid1_user)
    r = world.g1.residents[2]
    res = api.post(f"/api/registry/residents/{r.pk}/move-house", {"household_id": world.g2.households[0].pk}, content_type=JSON)
    assert res.status_code == 404
    assert Resident.objects.get(pk=r.pk).household_id == world.g1.households[1].pk


def test_tags_are_added_and_ended(world, bearer):
    CareTag.objects.get_or_create(code="kongchao", defaults={"name": "空巢"})
    api = bearer(world.grid1_user)
    r = world.g1.residents[0]
    res = api.post(f"/api/registry/residents/{r.pk}/tags", {"tag": "kongchao", "note": "子女在外地"}, content_type=JSON)
    assert res.status_code == 200 and "kongchao" in [t["code"] for t in res.json()["tags"]]
    unknown = api.post(f"/api/registry/residents/{r.pk}/tags", {"tag": "nope"}, content_type=JSON)
    assert unknown.status_code == 400 and unknown.json()["code"] == "tag_unknown"
    res = api.delete(f"/api/registry/residents/{r.pk}/tags/kongchao")
    assert res.status_code == 200 and "kongchao" not in [t["code"] for t in res.json()["tags"]]
    assert ResidentTag.objects.get(resident=r, tag__code="kongchao").end_date is not None
    assert api.delete(f"/api/registry/residents/{r.pk}/tags/kongchao").status_code == 404


def test_reveal_gives_the_value_and_logs_the_access(world, bearer):
    api = bearer(world.grid1_user)
    r = world.g1.residents[0]
    res = api.post(f"/api/registry/residents/{r.pk}/reveal", {"field": "id_number", "reason": "核对身份"}, content_type=JSON)
    assert res.status_code == 200 and res.json() == {"value": r.reveal_id_number()}
    res = api.post(f"/api/registry/residents/{r.pk}/reveal", {"field": "phone"}, content_type=JSON)
    assert res.json() == {"value": "13800000001"}
    log = PersonalDataAccess.objects.filter(user=world.grid1_user, resident=r)
    assert sorted(log.values_list("field", flat=True)) == ["id_number", "phone"]
    assert log.get(field="id_number").reason == "核对身份" and log.first().ip == "127.0.0.1"
    bad = api.post(f"/api/registry/residents/{r.pk}/reveal", {"field": "name"}, content_type=JSON)
    assert bad.status_code == 422 and bad.json()["field"] == "field"


def test_a_street_officer_cannot_reveal(world, bearer):
    r = world.g1.residents[0]
    res = bearer(world.street1).post(f"/api/registry/residents/{r.pk}/reveal", {"field": "id_number"}, content_type=JSON)
    assert res.status_code == 403 and res.json()["code"] == "reveal_forbidden"
    assert r.reveal_id_number() not in res.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_history_shows_events_and_masked_audit_entries(world, bearer):
    api = bearer(world.grid1_user)
    r = world.g1.residents[0]
    api.patch(f"/api/registry/residents/{r.pk}", {"phone": "13700001111", "name": "张叁"}, content_type=JSON)
    res = api.get(f"/api/registry/residents/{r.pk}/history")
    assert res.status_code == 200
    body = res.json()
    assert [e["kind"] for e in body["events"]] == ["move_in"]
    update = next(a for a in body["audit"] if a["action"] == "update")
    assert update["by"] == "grid1"
    assert update["changes"]["name"] == ["张三", "张叁"]
    assert update["changes"]["phone_masked"] == ["138****0001", "137****1111"]
    text = res.content.decode()
    fresh = Resident.objects.get(pk=r.pk)
    for secret in (fresh.phone_enc, fresh.phone_bidx, fresh.id_number_enc, "13700001111", fresh.reveal_id_number()):
        assert secret not in text
    assert not any(k.endswith(("_enc", "_bidx")) for a in body["audit"] for k in a["changes"])


def test_a_list_page_costs_the_same_queries_however_many_rows(world, bearer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.testing import add_person

    api = bearer(world.community1)
    api.get("/api/auth/me")  # the token's first use records last_used_at
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/api/registry/residents", {"limit": 200}).json()["items"]) == 6
    hh = world.g1.households[1]
    for i in range(20):
        add_person(hh, "测试" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑"[i // 10], dt.date(1960, 1, 1 + i), "M", 100 + i, relation="other")
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/registry/residents", {"limit": 200}).json()["items"]) == 26
    assert len(many.captured_queries) == len(few.captured_queries) <= 8
