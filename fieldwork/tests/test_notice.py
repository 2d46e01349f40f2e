"""The grid notice (网格公示): who writes it, the public page without sign-in, the logged call
button, the QR code and the A4 poster."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
import segno
from auditlog.models import LogEntry
from django.utils import timezone

from accounts.models import Role
from fieldwork.models import GridProfile
from fieldwork.services import evaluations as ev
from linli.errors import DomainError, Forbidden
from registry.testing import add_person, make_user

PHONE = "13912345678"


@pytest.fixture
def notice(world):
    return ev.update_notice(
        world.grid1_user, world.grid1, duties="每天巡查网格", commitment="有求必应", service_hours="周一至周五 8:30-17:30", phone=PHONE,
    )


def public(p):
    return f"/fieldwork/g/{p.slug}/"


# ---------------------------------------------------------------- writing the notice


def test_the_grid_worker_writes_the_notice_with_a_random_slug_and_an_encrypted_phone(world, notice):
    p = GridProfile.objects.get(grid=world.grid1)
    assert len(p.slug) == 16 and re.fullmatch(r"[A-Za-z0-9_-]+", p.slug)
    assert p.phone_masked == "139****5678" and PHONE not in p.phone_enc and p.reveal_phone() == PHONE
    assert (p.duties, p.commitment, p.service_hours) == ("每天巡查网格", "有求必应", "周一至周五 8:30-17:30")
    other = ev.update_notice(world.community1, world.grid2, duties="x")
    assert other.slug != p.slug


def test_saving_again_keeps_the_slug_and_the_phone_unless_asked(world, notice):
    again = ev.update_notice(world.community1, world.grid1, duties="新职责", phone=None)
    assert again.slug == notice.slug and again.reveal_phone() == PHONE
    cleared = ev.update_notice(world.community1, world.grid1, duties="新职责", phone="")
    assert cleared.phone_enc == "" and cleared.phone_masked == ""


def test_edits_are_in_the_audit_log_without_the_ciphertext(world, notice):
    ev.update_notice(world.grid1_user, world.grid1, duties="改过的职责", phone="13800001111")
    entries = LogEntry.objects.get_for_object(notice).order_by("timestamp")
    assert entries.count() == 2
    assert "phone_enc" not in entries.last().changes_dict and "duties" in entries.last().changes_dict


def test_a_bad_phone_is_refused_and_nothing_changes(world, notice):
    with pytest.raises(DomainError) as e:
        ev.update_notice(world.grid1_user, world.grid1, duties="变了", phone="12345")
    assert e.value.field == "phone"
    notice.refresh_from_db()
    assert notice.duties == "每天巡查网格" and notice.reveal_phone() == PHONE


def test_a_worker_of_a_sibling_grid_cannot_write_it(world):
    with pytest.raises(Forbidden):
        ev.update_notice(world.grid2_user, world.grid1, duties="x")
    assert not GridProfile.objects.exists()


def test_the_edit_page_for_the_grid_worker_and_the_community(world, login):
    resp = login(world.grid1_user).post(f"/fieldwork/notice/{world.grid1.pk}/edit/", {"duties": "巡查", "commitment": "承诺", "service_hours": "全天", "phone": "139 1234 5678"})
    assert resp.status_code == 302
    assert GridProfile.objects.get(grid=world.grid1).phone_masked == "139****5678"
    html = login(world.community1).get(f"/fieldwork/notice/{world.grid1.pk}/edit/").content.decode()
    assert "139****5678" in html and PHONE not in html and "qr.svg" in html


def test_the_edit_page_refuses_other_grids_and_other_roles(world, login):
    assert login(world.grid2_user).get(f"/fieldwork/notice/{world.grid1.pk}/edit/").status_code == 404
    assert login(world.grid2_user).post(f"/fieldwork/notice/{world.grid1.pk}/edit/", {"duties": "x"}).status_code == 404
    assert login(world.street1).get(f"/fieldwork/notice/{world.grid1.pk}/edit/").status_code == 403
    assert login(world.resident1).get(f"/fieldwork/notice/{world.grid1.pk}/edit/").status_code == 403
    assert login(world.community1).get(f"/fieldwork/notice/{world.grid3.pk}/edit/").status_code == 404
    assert not GridProfile.objects.exists()


def test_the_edit_page_shows_a_refused_phone_at_the_form(world, login):
    resp = login(world.grid1_user).post(f"/fieldwork/notice/{world.grid1.pk}/edit/", {"duties": "巡查", "phone": "abc"})
    assert resp.status_code == 200 and 'class="form-errors"' in resp.content.decode()
    assert not GridProfile.objects.exists()


def test_the_list_shows_the_grids_a_worker_writes_for(world, login, notice):
    html = login(world.community1).get("/fieldwork/notice/").content.decode()
    assert "第一网格" in html and "第二网格" in html and "第三网格" not in html
    html = login(world.grid2_user).get("/fieldwork/notice/").content.decode()
    assert "第二网格" in html and "第一网格" not in html


# ---------------------------------------------------------------- the public page


def test_the_public_page_needs_no_sign_in_and_shows_the_masked_phone(client, world, notice):
    resp = client.get(public(notice))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "第一网格" in html and "钮家巷社区" in html and "平江街道" in html
    assert "grid1" in html and "每天巡查网格" in html and "有求必应" in html and "周一至周五" in html
    assert "139****5678" in html and PHONE not in html
    assert f"/fieldwork/g/{notice.slug}/call" in html and "/workorders/report/" in html


def test_the_public_page_shows_no_residents(client, world, notice):
    html = client.get(public(notice)).content.decode()
    for r in world.g1.residents:
        assert r.name not in html and (not r.phone_masked or r.phone_masked not in html)


def test_an_unknown_slug_is_not_found(client, world, notice):
    for tail in ("", "call", "qr.svg", "print/"):
        assert client.get(f"/fieldwork/g/nosuchslug0000/{tail}").status_code == 404
    assert client.get("/api/fieldwork/notice/nosuchslug0000").status_code == 404


def test_the_public_page_shows_last_rounds_average_only_with_enough_ratings(client, world, notice, monkeypatch):
    hh = world.g1.households[0]
    users = []
    for i in range(5):
        person = add_person(hh, "居民" + "甲乙丙丁戊"[i], dt.date(1960, 1, 1 + i), "F", 300 + i, relation="other")
        users.append(make_user(f"r{i}", Role.RESIDENT, world.grid1, resident=person))
    for u, score in zip(users[:4], [5, 4, 4, 5], strict=True):
        ev.rate(u, worker=world.grid1_user, score=score, day=dt.date(2026, 3, 1))
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 11, 21))
    assert "4.5" not in client.get(public(notice)).content.decode()  # 4 ratings: too few
    ev.rate(users[4], worker=world.grid1_user, score=4, day=dt.date(2026, 3, 1))
    html = client.get(public(notice)).content.decode()
    assert "4.4" in html and "2026年上半年" in html


def test_the_public_api_answers_without_sign_in(client, world, notice):
    data = client.get(f"/api/fieldwork/notice/{notice.slug}").json()
    assert data["grid"] == "第一网格" and data["community"] == "钮家巷社区" and data["phone"] == "139****5678"
    assert [w["name"] for w in data["workers"]] == ["grid1"]
    assert data["url"].endswith(public(notice)) and data["call_url"].endswith("/call")
    assert PHONE not in str(data)


# ---------------------------------------------------------------- the call button


def test_the_call_button_redirects_to_the_number_and_logs_the_reveal(client, world, notice):
    resp = client.get(f"/fieldwork/g/{notice.slug}/call", REMOTE_ADDR="10.9.8.7")
    assert resp.status_code == 302 and resp["Location"] == f"tel:{PHONE}"
    assert "no-store" in resp["Cache-Control"]
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
    assert (entry.object_pk, entry.remote_addr, entry.actor) == (str(notice.pk), "10.9.8.7", None)
    assert entry.additional_data["field"] == "phone" and PHONE not in str(entry.changes)


def test_a_signed_in_caller_is_named_in_the_log(world, login, notice):
    login(world.resident1).get(f"/fieldwork/g/{notice.slug}/call", REMOTE_ADDR="10.9.8.7")
    assert LogEntry.objects.get(action=LogEntry.Action.ACCESS).actor == world.resident1


def test_calls_are_limited_per_ip_per_hour(client, world, notice):
    for _ in range(ev.CALLS_PER_HOUR):
        assert client.get(f"/fieldwork/g/{notice.slug}/call", REMOTE_ADDR="10.0.0.1").status_code == 302
    resp = client.get(f"/fieldwork/g/{notice.slug}/call", REMOTE_ADDR="10.0.0.1")
    assert resp.status_code == 429 and PHONE not in resp.content.decode()
    assert client.get(f"/fieldwork/g/{notice.slug}/call", REMOTE_ADDR="10.0.0.2").status_code == 302
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == ev.CALLS_PER_HOUR + 1


def test_a_grid_without_a_phone_has_no_call(client, world):
    p = ev.update_notice(world.grid1_user, world.grid1, duties="x")
    assert client.get(f"/fieldwork/g/{p.slug}/call").status_code == 404
    assert "/call" not in client.get(public(p)).content.decode()


# ---------------------------------------------------------------- QR code and poster


def _matrix_from_svg_path(d: str, size: int) -> list[list[int]]:
    """Rasterise segno's path (runs of dark modules: M x y, h n, m dx dy)."""
    grid = [[0] * size for _ in range(size)]
    x = y = 0.0
    for op, args in re.findall(r"([MmHh])([^MmHh]+)", d):
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if op == "M":
            x, y = nums
        elif op == "m":
            x, y = x + nums[0], y + nums[1]
        else:
            row = int(y - 0.5)
            for col in range(int(x), int(x + nums[0])):
                grid[row][col] = 1
            x += nums[0]
    return grid


def test_the_qr_code_is_an_svg_of_the_public_address(client, world, notice):
    resp = client.get(f"/fieldwork/g/{notice.slug}/qr.svg")
    assert resp.status_code == 200 and resp["Content-Type"] == "image/svg+xml"
    url = f"http://testserver/fieldwork/g/{notice.slug}/"
    root = ET.fromstring(resp.content)
    ns = {"s": "http://www.w3.org/2000/svg"}
    path = root.find(".//s:path", ns)
    assert root.tag.endswith("svg") and path is not None
    # The code drawn is the code of the public address: rebuild its modules from the path.
    qr = segno.make(url, error="m", micro=False, boost_error=False)
    border = 4
    assert path.get("transform") == "scale(8)"
    modules = _matrix_from_svg_path(path.get("d"), qr.symbol_size(scale=1, border=border)[0])
    expected = [[int(bool(v)) for v in row] for row in qr.matrix]
    assert [row[border:-border] for row in modules[border:-border]] == expected


def test_the_poster_prints_on_a4_with_a_large_qr_code(client, world, notice):
    resp = client.get(f"/fieldwork/g/{notice.slug}/print/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "size: A4" in html and "window.print()" in html
    assert "第一网格" in html and "139****5678" in html and PHONE not in html and "有求必应" in html
    assert '<svg viewBox="0 0' in html and 'class="qr"' in html
    assert f"http://testserver/fieldwork/g/{notice.slug}/" in html
