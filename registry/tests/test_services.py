import datetime as dt

import pytest

from linli.errors import Conflict, DomainError, Forbidden
from registry import services
from registry.models import EventKind, HouseholdMembership, Resident, ResidentStatus


def test_world_builds_residents_with_encrypted_id_numbers(world):
    r = world.g1.residents[0]
    assert r.id_number_enc and "320508" not in r.id_number_enc
    assert r.id_number_masked.startswith("3205") and "*" in r.id_number_masked
    assert r.reveal_id_number().startswith("320508")
    assert r.region_path == world.grid1.path
    assert r.pinyin == "zhangsan" and r.initials == "zs"


def test_it_refuses_a_resident_in_two_households(world):
    r = world.g1.residents[0]
    other = world.g1.households[1]
    with pytest.raises(Conflict):
        services._join(Resident.objects.get(pk=r.pk), other, "other", dt.date(2021, 1, 1))
    assert HouseholdMembership.objects.filter(resident=r, end_date__isnull=True).count() == 1


def test_moving_out_is_a_dated_event_not_a_deletion(world):
    r = world.g1.residents[2]
    services.move_out(world.grid1_user, r, on="2024-05-01")
    r.refresh_from_db()
    assert r.status == ResidentStatus.MOVED_OUT and r.household is None
    assert r.events.filter(kind=EventKind.MOVE_OUT, date=dt.date(2024, 5, 1)).exists()


def test_grid_worker_cannot_edit_the_sibling_grid(world):
    with pytest.raises(Forbidden):
        services.move_out(world.grid1_user, world.g2.residents[0])


def test_a_second_registration_of_the_same_id_number_is_refused(world):
    number = world.g1.residents[0].reveal_id_number()
    before = Resident.objects.count()
    with pytest.raises(Conflict):
        services.register_resident(world.grid1_user, household=world.g1.households[1], data={"name": "张三", "id_number": number}, relation="other")
    assert Resident.objects.count() == before


def test_reveal_needs_permission_and_is_logged(world):
    r = world.g1.residents[0]
    with pytest.raises(Forbidden):
        services.reveal(world.street1, r, "id_number")
    value = services.reveal(world.grid1_user, r, "phone", ip="127.0.0.1")
    assert value == "13800000001"
    assert world.grid1_user.pii_accesses.filter(resident=r, field="phone").count() == 1


def test_bad_id_number_changes_nothing(world):
    before = Resident.objects.count()
    with pytest.raises(DomainError) as e:
        services.register_resident(world.grid1_user, household=world.g1.households[1], data={"name": "李雷", "id_number": "110105194912310021"})
    assert e.value.code == "id_number_checksum"
    assert Resident.objects.count() == before


def test_search_finds_by_initials_id_number_phone_and_address(world):
    from registry.access.search import search_residents

    u = world.grid1_user
    assert [r.name for r in search_residents(u, "zs").rows] == ["张三"]
    number = world.g1.residents[0].reveal_id_number()
    assert [r.name for r in search_residents(u, number).rows] == ["张三"]
    assert [r.name for r in search_residents(u, "138 0000 0001").rows] == ["张三"]
    assert {r.name for r in search_residents(u, "1号楼1单元101").rows} == {"张三", "赵敏"}
    # the sibling grid's resident is invisible even by exact ID number
    other = world.g2.residents[0].reveal_id_number()
    assert search_residents(u, other).rows == []


def test_letters_search_initials_or_pinyin_and_initials_with_a_vowel_still_work(world):
    from registry.access.search import search_residents

    u = world.grid1_user
    assert [r.name for r in search_residents(u, "zhangs").rows] == ["张三"]
    assert [r.name for r in search_residents(u, "zm").rows] == ["赵敏"]
    hh = world.g1.households[1]
    from registry.testing import add_person

    add_person(hh, "欧阳修", dt.date(1960, 1, 1), "M", 300, relation="other")
    assert [r.name for r in search_residents(u, "oyx").rows] == ["欧阳修"]
    assert [r.name for r in search_residents(u, "ouyang").rows] == ["欧阳修"]
