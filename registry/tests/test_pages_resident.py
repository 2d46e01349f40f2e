"""The resident page: reveal, care tags, edit with concurrency check, life events, history;
and registering a new resident into a household."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import PersonalDataAccess
from registry import services
from registry.models import EventKind, Resident, ResidentStatus, ResidentTag
from registry.services import idnumber


def url(name, *args):
    return reverse(f"registry:{name}", args=args)


# ---------------------------------------------------------------- page and reveal

def test_resident_page_shows_masked_values_and_reveal_buttons(world, login):
    r = world.g1.residents[0]
    body = login(world.grid1_user).get(url("resident_detail", r.pk)).content.decode()
    assert r.id_number_masked in body and r.phone_masked in body
    assert r.reveal_id_number() not in body and r.reveal_phone() not in body
    assert url("resident_reveal", r.pk, "id_number") in body
    assert "测试小区1" in body  # address


def test_without_reveal_permission_there_is_no_button_and_the_post_is_refused(world, login):
    r = world.g1.residents[0]
    c = login(world.street1)
    body = c.get(url("resident_detail", r.pk)).content.decode()
    assert r.id_number_masked in body and url("resident_reveal", r.pk, "id_number") not in body
    assert c.post(url("resident_reveal", r.pk, "id_number")).status_code == 403
    assert not PersonalDataAccess.objects.exists()


def test_reveal_shows_the_full_value_and_records_the_access(world, login):
    r = world.g1.residents[0]
    c = login(world.grid1_user)
    resp = c.post(url("resident_reveal", r.pk, "id_number"), HTTP_HX_REQUEST="true", REMOTE_ADDR="10.1.2.3")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert r.reveal_id_number() in body and "已记入访问记录" in body
    assert "no-store" in resp["Cache-Control"]
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.resident, access.field, access.ip) == (world.grid1_user, r, "id_number", "10.1.2.3")
    assert c.post(url("resident_reveal", r.pk, "phone")).content.decode().count(r.reveal_phone()) == 1


def test_grid_worker_cannot_open_or_reveal_a_sibling_grids_resident(world, login):
    other = world.g2.residents[0]
    c = login(world.grid1_user)
    assert c.get(url("resident_detail", other.pk)).status_code == 404
    assert c.post(url("resident_reveal", other.pk, "id_number")).status_code == 404
    assert c.get(url("resident_edit", other.pk)).status_code == 404
    assert c.post(url("resident_event", other.pk, "move_out"), {"confirm": "on"}).status_code == 404
    assert not PersonalDataAccess.objects.exists()
    assert Resident.objects.get(pk=other.pk).status == ResidentStatus.ACTIVE


def test_reveal_of_an_unknown_field_is_not_found(world, login):
    r = world.g1.residents[0]
    assert login(world.grid1_user).post(url("resident_reveal", r.pk, "id_number_enc")).status_code == 404


# ---------------------------------------------------------------- care tags

def test_add_and_end_a_care_tag(world, login):
    r = world.g1.residents[2]
    c = login(world.grid1_user)
    resp = c.post(url("resident_tag_add", r.pk), {"tag": "dibao", "date": "2024-03-01", "note": "审批通过"}, follow=True)
    assert "已添加关爱标签“低保”" in resp.content.decode()
    rt = ResidentTag.objects.get(resident=r, tag__code="dibao")
    assert rt.start_date == dt.date(2024, 3, 1) and rt.end_date is None
    resp = c.post(url("resident_tag_end", r.pk, "dibao"), follow=True)
    rt.refresh_from_db()
    assert rt.end_date is not None
    body = resp.content.decode()
    assert "结束关爱标签" in body  # in the history


def test_a_bad_tag_date_is_refused_with_a_message(world, login):
    r = world.g1.residents[2]
    resp = login(world.grid1_user).post(url("resident_tag_add", r.pk), {"tag": "dibao", "date": "2024-02-30"}, follow=True)
    assert "不存在" in resp.content.decode()
    assert not ResidentTag.objects.filter(resident=r, tag__code="dibao").exists()


# ---------------------------------------------------------------- edit

def _edit_data(r, **changes):
    data = {"name": r.name, "ethnicity": r.ethnicity, "residence_type": r.residence_type,
            "political_status": r.political_status, "relation": r.relation, "updated_at": r.updated_at.isoformat()}
    data.update(changes)
    return data


def test_edit_saves_and_the_history_shows_what_changed(world, login):
    r = Resident.objects.get(pk=world.g1.residents[2].pk)
    c = login(world.grid1_user)
    resp = c.post(url("resident_edit", r.pk), _edit_data(r, political_status="cpc", phone="13912345678"))
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.political_status == "cpc" and r.reveal_phone() == "13912345678"
    body = c.get(url("resident_detail", r.pk)).content.decode()
    assert "信息修改" in body and "中共党员" in body
    assert "139****5678" in body and "13912345678" not in body
    assert r.phone_enc not in body and r.id_number_enc not in body


def test_a_stale_edit_is_refused_and_changes_nothing(world, login):
    r = Resident.objects.get(pk=world.g1.residents[2].pk)
    stale = _edit_data(r, name="周杰伦")
    services.update_resident(None, r, {"ethnicity": "回族"})  # someone else saves first
    resp = login(world.grid1_user).post(url("resident_edit", r.pk), stale)
    assert resp.status_code == 200
    assert "其他人刚刚修改了该居民的信息" in resp.content.decode()
    r.refresh_from_db()
    assert r.name == "周杰" and r.ethnicity == "回族"


def test_edit_with_a_bad_id_number_shows_the_message_and_keeps_the_input(world, login):
    r = Resident.objects.get(pk=world.g1.residents[2].pk)
    before = r.id_number_bidx
    resp = login(world.grid1_user).post(url("resident_edit", r.pk), _edit_data(r, id_number="110105194912310021", name="周杰"))
    body = resp.content.decode()
    assert resp.status_code == 200 and "校验位不对" in body and 'value="110105194912310021"' in body
    r.refresh_from_db()
    assert r.id_number_bidx == before


# ---------------------------------------------------------------- life events

def test_move_out_needs_a_confirmation(world, login):
    r = world.g1.residents[2]
    c = login(world.grid1_user)
    resp = c.post(url("resident_event", r.pk, "move_out"), {"date": "2024-06-01"})
    assert resp.status_code == 200 and "field-error" in resp.content.decode()
    assert Resident.objects.get(pk=r.pk).status == ResidentStatus.ACTIVE
    resp = c.post(url("resident_event", r.pk, "move_out"), {"date": "2024-06-01", "confirm": "on", "note": "工作调动"})
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.status == ResidentStatus.MOVED_OUT
    assert r.events.filter(kind=EventKind.MOVE_OUT, date=dt.date(2024, 6, 1), note="工作调动").exists()


def test_move_house_within_the_area_and_back_in(world, login):
    r = world.g1.residents[2]
    target = world.g1.households[0]
    c = login(world.grid1_user)
    page = c.get(url("resident_event", r.pk, "move_house")).content.decode()
    assert f'value="{target.pk}"' in page
    assert f'value="{world.g2.households[0].pk}"' not in page
    resp = c.post(url("resident_event", r.pk, "move_house"),
                  {"household": target.pk, "relation": "child", "date": "2024-02-01", "confirm": "on"})
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.household_id == target.pk and r.relation == "child"
    services.move_out(None, r, on="2024-05-01")
    resp = c.post(url("resident_event", r.pk, "return"),
                  {"household": world.g1.households[1].pk, "relation": "head", "date": "2024-08-01", "confirm": "on"})
    assert resp.status_code == 302
    r.refresh_from_db()
    assert r.status == ResidentStatus.ACTIVE and r.household_id == world.g1.households[1].pk


def test_move_house_into_a_sibling_grid_household_is_refused(world, login):
    r = world.g1.residents[2]
    resp = login(world.grid1_user).post(url("resident_event", r.pk, "move_house"),
                                        {"household": world.g2.households[0].pk, "date": "2024-02-01", "confirm": "on"})
    assert resp.status_code == 200 and "field-error" in resp.content.decode()
    assert Resident.objects.get(pk=r.pk).household_id == world.g1.households[1].pk


def test_record_death_before_birth_is_refused_then_recorded(world, login):
    r = world.g1.residents[0]
    c = login(world.grid1_user)
    resp = c.post(url("resident_event", r.pk, "death"), {"date": "1940-01-01", "confirm": "on"})
    assert "早于此人的出生日期" in resp.content.decode()
    assert Resident.objects.get(pk=r.pk).status == ResidentStatus.ACTIVE
    resp = c.post(url("resident_event", r.pk, "death"), {"date": "2024-09-09", "confirm": "on"}, follow=True)
    r.refresh_from_db()
    assert r.status == ResidentStatus.DECEASED
    body = resp.content.decode()
    assert "死亡" in body  # the event in the history
    # A deceased person cannot move out.
    page = c.get(url("resident_event", r.pk, "move_out")).content.decode()
    assert "无法登记" in page


def test_department_handler_cannot_record_events(world, login):
    assert login(world.dept1).get(url("resident_event", world.g1.residents[0].pk, "move_out")).status_code == 403


# ---------------------------------------------------------------- register a new resident

NEW_ID = idnumber.make("320508", dt.date(1985, 4, 12), "F", 300)


def _register(c, household, **data):
    payload = {"name": "林小红", "id_number": NEW_ID, "phone": "13712345678", "ethnicity": "汉族",
               "residence_type": "floating", "political_status": "masses", "relation": "tenant", "date": "2024-01-15"}
    payload.update(data)
    return c.post(url("resident_create", household.pk), payload)


def test_register_a_resident_into_a_household(world, login):
    c = login(world.grid1_user)
    resp = _register(c, world.g1.households[1])
    r = Resident.objects.get(name="林小红")
    assert resp.status_code == 302 and resp["Location"] == url("resident_detail", r.pk)
    assert r.household_id == world.g1.households[1].pk and r.relation == "tenant" and r.residence_type == "floating"
    assert r.reveal_id_number() == NEW_ID and r.gender == "F"
    body = c.get(url("household_detail", world.g1.households[1].pk)).content.decode()
    assert "林小红" in body


@pytest.mark.parametrize("id_number, message", [
    (NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1"), "校验位不对"),
    ("320508198502300011", "身份证号中的出生日期"),
    ("3205081985", "应为18位"),
])
def test_bad_id_numbers_are_refused_with_a_clear_message(world, login, id_number, message):
    before = Resident.objects.count()
    resp = _register(login(world.grid1_user), world.g1.households[1], id_number=id_number)
    body = resp.content.decode()
    assert resp.status_code == 200 and message in body and 'class="form-errors"' in body
    assert f'value="{id_number}"' in body  # input kept
    assert Resident.objects.count() == before


def test_an_id_already_registered_links_to_the_record_in_scope(world, login):
    existing = world.g1.residents[0]
    resp = _register(login(world.grid1_user), world.g1.households[1], id_number=existing.reveal_id_number())
    body = resp.content.decode()
    assert "该身份证号的居民已登记" in body and url("resident_detail", existing.pk) in body


def test_an_id_registered_in_a_sibling_grid_gives_no_link(world, login):
    other = world.g2.residents[0]
    resp = _register(login(world.grid1_user), world.g1.households[1], id_number=other.reveal_id_number())
    body = resp.content.decode()
    assert "该身份证号的居民已登记" in body
    assert url("resident_detail", other.pk) not in body and other.name not in body


def test_script_in_a_name_is_refused_and_shown_escaped(world, login):
    before = Resident.objects.count()
    resp = _register(login(world.grid1_user), world.g1.households[1], name="<script>alert(1)</script>")
    body = resp.content.decode()
    assert "姓名不能含" in body
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body
    assert Resident.objects.count() == before


def test_register_into_a_sibling_grids_household_is_not_found(world, login):
    assert _register(login(world.grid1_user), world.g2.households[0]).status_code == 404
    assert not Resident.objects.filter(name="林小红").exists()


def test_every_wrong_field_gets_its_message_at_once(world, login):
    resp = _register(login(world.grid1_user), world.g1.households[1], name="王5", id_number="320508198502300011", phone="123")
    body = resp.content.decode()
    assert "姓名不能含数字" in body and "身份证号中的出生日期" in body and "不是有效的手机号" in body
    assert not Resident.objects.filter(phone_masked__startswith="12").exists()
