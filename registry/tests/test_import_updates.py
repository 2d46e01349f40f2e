"""Re-imports update residents in place: changes audited, moves recorded, tags added."""


import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from registry import services
from registry.models import Building, House, Household, HouseholdMembership, Resident, ResidentEvent, ResidentTag
from registry.services.importer import check
from registry.tests.test_import_support import counts, person_id, row, run, statuses


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def family(**over):
    return [
        row(name="韩父", id_number=person_id(1950, 3, 4, "M", 301), phone="13800138000", **over),
        row(name="韩母", id_number=person_id(1952, 5, 6, "F", 302), relation="配偶", **over),
        row(name="韩子", id_number=person_id(2015, 7, 8, "M", 303), relation="子女", **over),
    ]


def test_reimporting_the_same_file_updates_instead_of_duplicating(world):
    job = run(world.grid1_user, family())
    assert job.created_count == 3
    before = counts()
    job = run(world.grid1_user, family())
    assert job.status == "done"
    assert (job.created_count, job.updated_count) == (0, 0)
    assert statuses(job) == ["无变化"] * 3
    assert counts() == before


def test_a_changed_field_is_written_to_the_audit_log_with_masked_values(world):
    run(world.grid1_user, family())
    rows = family()
    rows[0] = row(name="韩父", id_number=person_id(1950, 3, 4, "M", 301), phone="13912345678", political_status="中共党员")
    job = run(world.grid1_user, rows)
    assert job.updated_count == 1 and statuses(job)[0] == "更新"
    r = Resident.objects.get(name="韩父")
    assert r.phone_masked == "139****5678" and r.reveal_phone() == "13912345678" and r.political_status == "cpc"
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Resident), object_id=r.pk,
                                 action=LogEntry.Action.UPDATE)
    assert entry.changes["phone_masked"] == ["138****8000", "139****5678"]
    assert entry.changes["political_status"] == ["masses", "cpc"]
    assert entry.actor == world.grid1_user
    assert "13912345678" not in str(entry.changes) and "13800138000" not in str(entry.changes)


def test_empty_cells_do_not_erase_what_is_known(world):
    run(world.grid1_user, family())
    rows = family()
    rows[0] = row(name="韩父", id_number=person_id(1950, 3, 4, "M", 301), phone="")
    run(world.grid1_user, rows)
    assert Resident.objects.get(name="韩父").phone_masked == "138****8000"


def test_moving_to_another_house_on_reimport_is_a_move(world):
    run(world.grid1_user, family())
    son = Resident.objects.get(name="韩子")
    old_hh = son.household_id
    rows = family()
    rows[2] = row(name="韩子", id_number=person_id(2015, 7, 8, "M", 303), room="202", relation="户主")
    job = run(world.grid1_user, rows)
    assert job.status == "done", statuses(job)
    assert statuses(job)[2] == "更新"
    son.refresh_from_db()
    assert son.household_id != old_hh and son.household.house.room == "202" and son.relation == "head"
    memberships = list(HouseholdMembership.objects.filter(resident=son).order_by("id"))
    assert len(memberships) == 2
    assert memberships[0].household_id == old_hh and memberships[0].end_date is not None
    assert memberships[1].end_date is None and memberships[1].household_id == son.household_id
    ev = ResidentEvent.objects.get(resident=son, kind="move_house")
    assert ev.from_household_id == old_hh and ev.to_household_id == son.household_id
    assert Resident.objects.count() == Resident.objects.values("id_number_bidx").distinct().count()


def test_a_move_to_another_grid_carries_the_scope_along(world):
    run(world.community1, family())
    rows = family()
    rows[2] = row(name="韩子", id_number=person_id(2015, 7, 8, "M", 303), grid="第二网格", relation="户主")
    job = run(world.community1, rows)
    assert job.status == "done"
    son = Resident.objects.get(name="韩子")
    assert son.region_id == world.grid2.pk and son.region_path == world.grid2.path
    assert set(ResidentTag.objects.filter(resident=son).values_list("region_path", flat=True)) == {world.grid2.path}


def test_the_head_moving_away_leaves_the_old_household_headless_unless_replaced(world):
    run(world.grid1_user, family())
    father = Resident.objects.get(name="韩父")
    hh = father.household
    rows = [row(name="韩父", id_number=person_id(1950, 3, 4, "M", 301), room="808"),
            row(name="韩母", id_number=person_id(1952, 5, 6, "F", 302), relation="户主")]
    job = run(world.grid1_user, rows)
    assert job.status == "done", statuses(job)
    hh.refresh_from_db()
    assert hh.head == Resident.objects.get(name="韩母")
    assert Resident.objects.get(name="韩母").relation == "head"
    assert HouseholdMembership.objects.get(resident__name="韩母", end_date__isnull=True).relation == "head"


def test_a_new_member_of_an_existing_household_needs_no_head_row(world):
    run(world.grid1_user, family())
    job = run(world.grid1_user, [row(name="韩孙", id_number=person_id(2020, 1, 1, "F", 304), relation="孙子女")])
    assert job.status == "done", statuses(job)
    assert Resident.objects.get(name="韩孙").household_id == Resident.objects.get(name="韩父").household_id
    # A second head for that household is refused.
    job = run(world.grid1_user, [row(name="韩叔", id_number=person_id(1960, 1, 1, "M", 305), relation="户主")])
    assert job.status == "rejected" and "韩父" in statuses(job)[0]


def test_household_numbers_split_one_house_into_households(world):
    rows = [row(name="甲一", id_number=person_id(seq=311), household_number="A1"),
            row(name="乙一", id_number=person_id(seq=312), household_number="A2")]
    job = run(world.grid1_user, rows)
    assert job.status == "done", statuses(job)
    a, b = Resident.objects.get(name="甲一"), Resident.objects.get(name="乙一")
    assert a.household_id != b.household_id and a.household.house_id == b.household.house_id
    assert {a.household.number, b.household.number} == {"A1", "A2"}


def test_places_are_created_once_and_reused(world):
    run(world.grid1_user, family())
    n = (Building.objects.count(), House.objects.count(), Household.objects.count())
    run(world.grid1_user, [row(name="邻居", id_number=person_id(seq=321), room="102")])
    assert (Building.objects.count(), House.objects.count(), Household.objects.count()) == (n[0], n[1] + 1, n[2] + 1)
    # The world's own building is matched by estate and number.
    run(world.grid1_user, [row(name="老邻居", id_number=person_id(seq=322), estate="测试小区1", building="1号楼", room="909")])
    assert Resident.objects.get(name="老邻居").household.house.building == world.g1.building


def test_care_tags_from_the_file_and_age_tags_from_the_birth_date(world):
    rows = family()
    rows[0] = row(name="韩父", id_number=person_id(1940, 3, 4, "M", 301), tags="低保、 独居老人;veteran")
    job = run(world.grid1_user, rows[:1])
    assert job.status == "done", statuses(job)
    r = Resident.objects.get(name="韩父")
    codes = set(ResidentTag.objects.filter(resident=r, end_date__isnull=True).values_list("tag__code", flat=True))
    assert codes == {"dibao", "living_alone", "veteran", "elderly", "elderly80"}
    job = run(world.grid1_user, [row(name="韩子", id_number=person_id(2015, 7, 8, "M", 303), room="555")])
    child = Resident.objects.get(name="韩子")
    assert set(ResidentTag.objects.filter(resident=child).values_list("tag__code", flat=True)) == {"child"}
    # Re-importing adds only what is missing.
    before = ResidentTag.objects.count()
    job = run(world.grid1_user, [row(name="韩父", id_number=person_id(1940, 3, 4, "M", 301), tags="低保、特困")])
    assert statuses(job) == ["更新"]
    assert ResidentTag.objects.count() == before + 1


def test_a_person_recorded_as_deceased_is_refused(world):
    r = world.g1.residents[2]
    services.record_death(world.grid1_user, r, on="2024-01-01")
    job = run(world.grid1_user, [row(name=r.name, id_number=r.reveal_id_number(), room="777")], mode="valid_rows")
    assert statuses(job)[0].startswith("错误：身份证号")


def test_a_person_who_moved_out_moves_back_in(world):
    r = world.g1.residents[2]
    services.move_out(world.grid1_user, r, on="2024-01-01")
    job = run(world.grid1_user, [row(name=r.name, id_number=r.reveal_id_number(), room="777")])
    assert job.status == "done", statuses(job)
    r.refresh_from_db()
    assert r.status == "active" and r.household.house.room == "777"
    assert r.events.filter(kind="move_in").exists()


def test_big_files_are_checked_on_all_cores(world, monkeypatch):
    monkeypatch.setattr(check, "PARALLEL_MIN_ROWS", 10)
    monkeypatch.setattr(check, "WORKERS", 2)
    monkeypatch.setattr(check, "PROGRESS_EVERY", 7)
    rows = [row(name="并" + "一二三四五六七八九十"[k % 10] + "甲乙丙丁戊己庚辛壬癸"[k // 10], id_number=person_id(1980, 1, 1 + k % 28, "M", 400 + k),
                room=str(100 + k)) for k in range(30)]
    rows.append(row(name="错行", id_number="1234", room="999"))
    job = run(world.grid1_user, rows, mode="valid_rows")
    assert (job.created_count, job.error_count, job.processed_rows) == (30, 1, 31)
    assert statuses(job)[-1].startswith("错误：身份证号")
    assert Resident.objects.filter(name__startswith="并").count() == 30
