"""The offline queue's server side: each queued item is received once, a replay changes nothing,
a refusal is told in Chinese and English and remembered, and a bad item never spoils the batch."""

import base64
import datetime as dt
import io
import uuid

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from PIL import Image

from fieldwork.models import SyncReceipt, Visit, VisitPhoto
from fieldwork.services import sync
from linli.errors import DomainError


def zh(msgid: str) -> str:
    """The Chinese of a message (the catalogue is compiled from var/zh at release)."""
    with translation.override("zh-hans"):
        return gettext(msgid)


def key():
    return str(uuid.uuid4())


def visit_item(world, household=None, k=None, **payload):
    household = household or world.g1.households[0]
    body = {
        "household": str(household.pk),
        "visited_at": (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "kind": "routine",
        "met": [str(world.g1.residents[0].pk)],
        "notes": "老人身体不错",
        "nobody_home": False,
        "csrfmiddlewaretoken": "ignored",
    }
    body.update(payload)
    return {"key": k or key(), "kind": "visit", "payload": body}


def jpeg_data_url(size=(64, 48)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", size, (90, 140, 60)).save(buf, "JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def test_each_key_makes_one_visit_and_a_replay_changes_nothing(world):
    items = [visit_item(world), visit_item(world, world.g1.households[1], met=[str(world.g1.residents[2].pk)])]
    first = sync.sync(world.grid1_user, items)
    assert [r["status"] for r in first] == ["ok", "ok"]
    assert Visit.objects.count() == 2
    visit = Visit.objects.get(pk=first[0]["id"])
    assert visit.client_key == items[0]["key"] and visit.worker == world.grid1_user
    assert list(visit.met.values_list("pk", flat=True)) == [world.g1.residents[0].pk]

    again = sync.sync(world.grid1_user, items)
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert [r["id"] for r in again] == [r["id"] for r in first]
    assert Visit.objects.count() == 2
    assert SyncReceipt.objects.filter(user=world.grid1_user, status="ok").count() == 2


def test_the_same_key_twice_in_one_batch_is_received_once(world):
    item = visit_item(world)
    results = sync.sync(world.grid1_user, [item, dict(item)])
    assert [r["status"] for r in results] == ["ok", "duplicate"]
    assert results[0]["id"] == results[1]["id"]
    assert Visit.objects.count() == 1


def test_a_visit_outside_the_grid_is_refused_in_chinese_and_english_and_remembered(world):
    item = visit_item(world, world.g3.households[0], met=[])
    [result] = sync.sync(world.grid1_user, [item])
    assert result["status"] == "refused" and result["code"] == "outside_grid"
    assert result["message"] == zh("That household is outside your grid.")
    assert result["message_en"] == "That household is outside your grid."
    assert Visit.objects.count() == 0
    # The same key answers the same, even if the payload were changed on the phone.
    item["payload"]["household"] = str(world.g1.households[0].pk)
    [again] = sync.sync(world.grid1_user, [item])
    assert again["status"] == "refused" and again["code"] == "outside_grid" and again["message"] == result["message"]
    assert Visit.objects.count() == 0


def test_a_visit_dated_in_the_future_is_refused(world):
    future = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    [result] = sync.sync(world.grid1_user, [visit_item(world, visited_at=future)])
    assert result["status"] == "refused" and result["code"] == "when_future"
    assert result["message_en"].startswith("The time ") and result["message_en"].endswith("is in the future.")
    assert result["message"] == zh("The time %(when)s is in the future.") % {"when": result["message_en"][9:25]}
    assert result["field"] == "visited_at"
    assert Visit.objects.count() == 0


def test_a_mixed_batch_keeps_the_good_items(world):
    good1, good2 = visit_item(world), visit_item(world, world.g1.households[1], met=[], nobody_home=True)
    bad = visit_item(world, world.g2.households[0], met=[])
    empty = visit_item(world, met=[], notes="")
    results = sync.sync(world.grid1_user, [good1, bad, {"key": "x"}, empty, good2])
    assert [r["status"] for r in results] == ["ok", "refused", "refused", "refused", "ok"]
    assert [r["code"] for r in results[1:4]] == ["outside_grid", "key_invalid", "visit_empty"]
    assert set(Visit.objects.values_list("client_key", flat=True)) == {good1["key"], good2["key"]}
    assert Visit.objects.get(client_key=good2["key"]).nobody_home is True


def test_envelope_errors_are_refused_alone_or_as_a_whole(world):
    results = sync.sync(
        world.grid1_user,
        [
            "not an object",
            {"key": "short", "kind": "visit", "payload": {}},
            {"key": "a" * 65, "kind": "visit", "payload": {}},
            {"key": "bad key with spaces", "kind": "visit", "payload": {}},
            {"key": key(), "kind": "teleport", "payload": {}},
            {"key": key(), "kind": "visit", "payload": ["not", "an", "object"]},
            visit_item(world),
        ],
    )
    assert [r["code"] for r in results[:6]] == ["item_invalid", "key_invalid", "key_invalid", "key_invalid", "kind_unknown", "payload_invalid"]
    assert all(r["message"] and r["message_en"] for r in results[:6])
    assert results[6]["status"] == "ok"
    assert SyncReceipt.objects.count() == 1  # envelope refusals are not receipts
    with pytest.raises(DomainError) as exc:
        sync.sync(world.grid1_user, [visit_item(world) for _ in range(501)])
    assert exc.value.code == "too_many_items"
    with pytest.raises(DomainError):
        sync.sync(world.grid1_user, {"items": []})
    assert Visit.objects.count() == 1


def test_receipts_are_per_user(world):
    k = key()
    mine = sync.sync(world.grid1_user, [visit_item(world, k=k)])
    theirs = sync.sync(world.community1, [visit_item(world, k=k)])
    assert mine[0]["status"] == theirs[0]["status"] == "ok"
    assert mine[0]["id"] != theirs[0]["id"]
    assert Visit.objects.filter(client_key=k).count() == 2


def test_form_values_are_converted(world):
    [result] = sync.sync(
        world.grid1_user,
        [visit_item(world, met="", nobody_home="true", notes="", met_note="", lat="31.305", lng="120.605")],
    )
    assert result["status"] == "ok", result
    visit = Visit.objects.get()
    assert visit.nobody_home is True and visit.lat == pytest.approx(31.305)
    [off] = sync.sync(world.grid1_user, [visit_item(world, nobody_home="false", met=[], notes="")])
    assert off["code"] == "visit_empty"  # "false" is not ticked


def test_photos_arrive_as_data_urls(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    [result] = sync.sync(world.grid1_user, [visit_item(world, files=[jpeg_data_url(), jpeg_data_url()])])
    assert result["status"] == "ok", result
    assert VisitPhoto.objects.filter(visit_id=result["id"]).count() == 2
    assert all(p.content_type == "image/jpeg" for p in VisitPhoto.objects.all())


def test_bad_photos_are_refused_with_the_item(world, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.LINLI_MAX_IMAGE_BYTES = 1024
    big = jpeg_data_url((400, 400))
    results = sync.sync(
        world.grid1_user,
        [
            visit_item(world, files=[big]),
            visit_item(world, files=[jpeg_data_url()] * 4),
            visit_item(world, files=["data:image/jpeg;base64,%%%"]),
            visit_item(world, files=["https://example.com/a.jpg"]),
        ],
    )
    assert [r["code"] for r in results] == ["upload_too_large", "too_many_photos", "upload_type", "photo_invalid"]
    assert Visit.objects.count() == 0 and VisitPhoto.objects.count() == 0


def test_an_unexpected_failure_answers_error_keeps_no_receipt_and_a_retry_goes_through(world, monkeypatch):
    from fieldwork import services

    real = services.record_visit

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    sync._accepted.cache_clear()
    monkeypatch.setattr(services, "record_visit", broken)
    item = visit_item(world)
    [result] = sync.sync(world.grid1_user, [item])
    assert result["status"] == "error" and result["code"] == "sync_error" and result["message"]
    assert SyncReceipt.objects.count() == 0 and Visit.objects.count() == 0
    monkeypatch.setattr(services, "record_visit", real)
    sync._accepted.cache_clear()
    [retry] = sync.sync(world.grid1_user, [item])
    assert retry["status"] == "ok" and Visit.objects.count() == 1


def test_a_kind_whose_service_does_not_exist_yet_is_refused_and_not_remembered(world, monkeypatch):
    monkeypatch.setitem(sync.KINDS, "visit", ("fieldwork.nothing_here", "record", "kwargs"))
    sync._accepted.cache_clear()
    item = visit_item(world)
    [result] = sync.sync(world.grid1_user, [item])
    assert result["status"] == "refused" and result["code"] == "kind_unavailable"
    assert SyncReceipt.objects.count() == 0
    monkeypatch.undo()
    sync._accepted.cache_clear()
    assert sync.sync(world.grid1_user, [item])[0]["status"] == "ok"


def test_a_crash_after_the_visit_leaves_neither_visit_nor_receipt(world, monkeypatch):
    """The receipt and the visit are written together: a failure in between rolls both back."""
    item = visit_item(world)
    real_create = SyncReceipt.objects.create

    def crash(**kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(SyncReceipt.objects, "create", crash)
    assert sync.sync(world.grid1_user, [item])[0]["status"] == "error"
    assert Visit.objects.count() == 0 and SyncReceipt.objects.count() == 0
    monkeypatch.setattr(SyncReceipt.objects, "create", real_create)
    assert sync.sync(world.grid1_user, [item])[0]["status"] == "ok"
    assert Visit.objects.count() == 1


def test_two_hundred_visits_sync_in_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    grid1 = world.g1.households
    items = [visit_item(world, grid1[i % 2], met=[], nobody_home=True) for i in range(200)]
    with django_assert_max_num_queries(200 * 14):
        results = sync.sync(world.grid1_user, items)
    assert {r["status"] for r in results} == {"ok"}
    assert Visit.objects.count() == 200


@pytest.mark.parametrize("ages, kept", [
    ([200, 120, 91, 10, 0], [10, 0]),  # the three older than 90 days go
    ([300, 200], []),  # all old
    ([5, 1], [5, 1]),  # none old
])
def test_old_receipts_are_forgotten_and_recent_ones_kept(world, ages, kept):
    now = timezone.now()
    for i, days in enumerate(ages):
        r = SyncReceipt.objects.create(user=world.grid1_user, key=f"k{i}-{days}", kind="visit", status="ok")
        SyncReceipt.objects.filter(pk=r.pk).update(at=now - dt.timedelta(days=days, minutes=1))
    assert sync.forget_receipts(90, now=now, batch=2) == len(ages) - len(kept)
    assert sorted((now - at).days for at in SyncReceipt.objects.values_list("at", flat=True)) == sorted(kept)


def test_a_visit_sent_again_after_its_receipt_was_forgotten_is_still_made_once(world):
    item = visit_item(world)
    first = sync.sync(world.grid1_user, [item])
    SyncReceipt.objects.update(at=timezone.now() - dt.timedelta(days=400))
    assert sync.forget_receipts() == 1
    again = sync.sync(world.grid1_user, [item])
    assert again[0]["id"] == first[0]["id"]
    assert Visit.objects.count() == 1
