"""The importer's row checks take short cuts for common cells; they must accept and refuse
exactly what the shared validators accept and refuse."""

import datetime as dt
import random

import pytest
from cryptography.exceptions import InvalidTag

from linli import pii
from linli.errors import DomainError
from registry.models import Resident
from registry.services import idnumber
from registry.services import validators as v
from registry.services.importer import check
from registry.tests.test_import_support import person_id, row, run, statuses

TODAY = dt.date(2024, 6, 1)


def _fast_id(raw):
    try:
        return check._id_number(TODAY)(raw)
    except check.RowError as e:
        return e.text


def _reference_id(raw):
    if isinstance(raw, float) and raw >= 1e16:
        return "float"
    try:
        idn = idnumber.parse(check._cell(raw), today=TODAY)
    except DomainError as e:
        return check._column_message(e, "身份证号")
    return idn.number, idn.birth_date, idn.gender


def _mutations(number, rng):
    yield number
    yield number.lower()
    yield " " + number + " "
    yield "１" + number[1:]  # a full-width digit
    yield number[:17] + ("x" if number[17] == "X" else "X")
    yield number[:15]
    for _ in range(6):
        k = rng.randrange(18)
        yield number[:k] + rng.choice("0123456789X") + number[k + 1:]
    yield number[:6] + "20250230" + number[14:]  # an impossible date
    yield number[:6] + "20300101" + number[14:]  # a date after today
    yield "99" + number[2:]  # no such province


def test_the_id_number_short_cut_agrees_with_idnumber_parse():
    rng = random.Random(5)
    checked = accepted = 0
    for k in range(300):
        birth = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(45_000))
        number = idnumber.make(rng.choice(["110105", "320508", "810000", "510722"]), birth, rng.choice("MF"), k % 500)
        for raw in _mutations(number, rng):
            fast, ref = _fast_id(raw), _reference_id(raw)
            assert fast == ref, raw
            checked += 1
            accepted += not isinstance(ref, str)
    assert checked > 4000 and 300 <= accepted < checked


def test_numbers_excel_kept_as_numbers_are_refused_or_read_like_the_validator():
    assert _fast_id(1.1010519491231002e17).startswith("身份证号：Excel")
    assert _fast_id(110105194912310.0) == _reference_id(110105194912310.0)


def test_the_phone_short_cut_agrees_with_parse_phone():
    for raw in ["13800138000", "12800138000", "1380013800", "138001380001", "１3800138000", "138 0013 8000",
                "+8613800138000", "02588886666", "13800138000.0", 13800138000.0, "abc", "10000000000"]:
        try:
            ref = v.parse_phone(check._cell(raw))
        except DomainError as e:
            ref = f"联系电话：{e.text()}"
        try:
            fast = check._phone(raw)
        except check.RowError as e:
            fast = e.text
        assert fast == ref, raw


def test_bulk_blind_index_and_encryption_match_the_single_value_functions():
    index = pii.blind_indexer("id_number")
    for value in ["11010519491231002X", "13800138000", "张三", "x" * 200]:
        assert index(value) == pii.blind_index(value, "id_number")
    assert index("") == ""
    enc = pii.encryptor(Resident.AAD_ID)
    tokens = [enc("11010519491231002X") for _ in range(200)]
    assert len(set(tokens)) == 200  # a fresh nonce each time
    assert {pii.decrypt(t, Resident.AAD_ID) for t in tokens} == {"11010519491231002X"}
    assert all(t.startswith(pii.current_kid() + "$") for t in tokens)
    with pytest.raises(InvalidTag):
        pii.decrypt(tokens[0], Resident.AAD_PHONE)  # bound to its purpose
    assert enc("") == ""


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_repeated_bad_value_is_refused_on_every_row_with_the_same_message(world, media):
    rows = [row(name=f"韦{'一二三'[k]}", id_number=person_id(seq=500 + k), room=str(301 + k), unit="九十九")
            for k in range(3)]
    job = run(world.grid1_user, rows, mode="valid_rows")
    s = statuses(job)
    assert len(set(s)) == 1 and s[0].startswith("错误：单元") and job.error_count == 3


def test_rows_shorter_than_the_header_and_missing_optional_columns_are_read(world, media):
    header = ["姓名", "身份证号", "小区", "楼栋", "房号"]
    rows = [["司一", person_id(seq=511), "幸福小区", "3", "101"], ["司二", person_id(seq=512, gender="F")]]
    job = run(world.grid1_user, rows, header=header, mode="valid_rows")
    s = statuses(job)
    assert s[0] == "新增" and s[1].startswith("错误：小区")
    r = Resident.objects.get(name="司一")
    assert (r.household.house.unit, r.relation, r.ethnicity, r.residence_type) == (1, "head", "汉族", "registered")
