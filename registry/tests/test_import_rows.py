"""Row rules of the resident import: duplicates, heads of household, grids and scope, both modes."""

import pytest

from registry.models import HouseholdMembership, Resident
from registry.tests.test_import_support import counts, person_id, report_rows, row, run, statuses


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_second_row_with_the_same_id_number_is_refused_naming_the_first(world):
    n = person_id(seq=101)
    job = run(world.grid1_user, [row(name="李雷", id_number=n), row(name="李雷", id_number=n, room="102")], mode="valid_rows")
    s = statuses(job)
    assert s[0] == "新增"
    assert s[1].startswith("错误：身份证号") and "2" in s[1]  # the first copy is on spreadsheet row 2
    assert Resident.objects.filter(name="李雷").count() == 1


def test_two_heads_in_one_household_are_refused(world):
    rows = [row(name="钱一", id_number=person_id(seq=111)), row(name="钱二", id_number=person_id(seq=112))]
    job = run(world.grid1_user, rows, mode="valid_rows")
    s = statuses(job)
    assert s[0] == "新增" and s[1].startswith("错误：与户主关系") and "2" in s[1]


def test_a_household_without_a_head_is_refused(world):
    rows = [row(name="孙一", id_number=person_id(seq=121), relation="配偶"),
            row(name="孙二", id_number=person_id(seq=122, gender="F"), relation="子女")]
    job = run(world.grid1_user, rows, mode="valid_rows")
    s = statuses(job)
    assert all(x.startswith("错误：与户主关系") and "户主" in x for x in s)
    assert job.created_count == 0


def test_a_refused_head_leaves_the_rest_of_the_household_refused(world):
    rows = [row(name="孙一", id_number="123"), row(name="孙二", id_number=person_id(seq=122, gender="F"), relation="配偶")]
    job = run(world.grid1_user, rows, mode="valid_rows")
    s = statuses(job)
    assert s[0].startswith("错误：身份证号") and s[1].startswith("错误：与户主关系")


def test_a_person_alone_needs_no_relation(world):
    job = run(world.grid1_user, [row(name="周一", id_number=person_id(seq=131), relation="")])
    assert job.status == "done", statuses(job)
    r = Resident.objects.get(name="周一")
    assert r.relation == "head" and r.household.head_id == r.pk


def test_an_unknown_grid_and_a_grid_outside_the_scope_are_refused(world):
    rows = [row(name="郑一", id_number=person_id(seq=141), grid="不存在的网格"),
            row(name="郑二", id_number=person_id(seq=142), grid="第二网格", room="102"),
            row(name="郑三", id_number=person_id(seq=143), grid=world.grid3.code, room="103")]
    job = run(world.grid1_user, rows, mode="valid_rows")
    s = statuses(job)
    assert all(x.startswith("错误：网格") for x in s), s
    assert Resident.objects.filter(name__in=["郑一", "郑二", "郑三"]).count() == 0


def test_a_community_worker_imports_into_several_grids_by_name_or_code(world):
    rows = [row(name="冯一", id_number=person_id(seq=151), grid="第一网格"),
            row(name="冯二", id_number=person_id(seq=152), grid=world.grid2.code)]
    job = run(world.community1, rows)
    assert job.status == "done", statuses(job)
    assert Resident.objects.get(name="冯一").region_id == world.grid1.pk
    assert Resident.objects.get(name="冯二").region_id == world.grid2.pk
    # Without the grid column a community with two grids cannot tell where rows go.
    job = run(world.community1, [row(name="冯三", id_number=person_id(seq=153), grid="")])
    assert job.status == "rejected" and statuses(job)[0].startswith("错误：网格")


def test_a_grid_worker_may_leave_out_the_grid(world):
    job = run(world.grid1_user, [row(name="陈一", id_number=person_id(seq=161), grid="")])
    assert job.status == "done"
    assert Resident.objects.get(name="陈一").region_path == world.grid1.path


def test_a_resident_registered_in_another_area_is_refused(world):
    other = world.g2.residents[0]
    job = run(world.grid1_user, [row(name=other.name, id_number=other.reveal_id_number())], mode="valid_rows")
    assert statuses(job)[0].startswith("错误：身份证号")
    other.refresh_from_db()
    assert other.region_id == world.grid2.pk


def test_atomic_mode_with_one_bad_row_writes_nothing(world):
    before = counts()
    rows = [row(name="褚一", id_number=person_id(seq=171)),
            row(name="褚二", id_number=person_id(seq=172, gender="F"), relation="配偶", tags="低保"),
            row(name="褚三", id_number=person_id(seq=173), room="909", phone="12345")]
    job = run(world.grid1_user, rows, mode="atomic")
    assert job.status == "rejected"
    assert job.error_count == 1 and job.created_count == 0
    assert counts() == before
    s = statuses(job)
    assert s[:2] == ["未导入（整批回滚）", "未导入（整批回滚）"]
    assert s[2].startswith("错误：联系电话")
    assert "1" in job.message


def test_valid_rows_mode_takes_the_good_rows_and_reports_the_bad(world):
    rows = [row(name="卫一", id_number=person_id(seq=181)),
            row(name="卫二", id_number=person_id(seq=182), room="909", residence_type="火星"),
            row(name="卫三", id_number=person_id(seq=183), room="910", tags="不存在的标签")]
    job = run(world.grid1_user, rows, mode="valid_rows")
    assert job.status == "done"
    assert (job.created_count, job.error_count, job.total_rows, job.processed_rows) == (1, 2, 3, 3)
    s = statuses(job)
    assert s[0] == "新增" and s[1].startswith("错误：户籍类型") and s[2].startswith("错误：关爱标签")
    assert Resident.objects.filter(name__in=["卫一", "卫二", "卫三"]).count() == 1


def test_the_report_keeps_the_original_rows_and_row_numbers(world):
    rows = [row(name="蒋一", id_number=person_id(seq=191), note="=cmd|' /C calc'!A0")]
    job = run(world.grid1_user, rows, title="台账标题")
    rep = report_rows(job)
    assert rep[0][:3] == ["行号", "导入结果", "姓名"]
    assert rep[1][0] == 3 and rep[1][1] == "新增" and rep[1][2] == "蒋一"
    assert "'=cmd|' /C calc'!A0" in rep[1]  # text that looks like a formula is neutralised


def test_a_new_resident_gets_a_household_membership_and_a_registration_event(world):
    job = run(world.grid1_user, [row(name="沈一", id_number=person_id(seq=201), note="从外区迁来")])
    assert job.status == "done"
    r = Resident.objects.get(name="沈一")
    m = HouseholdMembership.objects.get(resident=r)
    assert m.end_date is None and m.relation == "head" and m.household_id == r.household_id
    ev = r.events.get()
    assert ev.kind == "registered" and ev.to_household_id == r.household_id and ev.note == "从外区迁来"
    assert ev.created_by == world.grid1_user
    b = r.household.house.building
    assert (b.estate, b.number, b.region_id) == ("幸福小区", "3", world.grid1.pk)


def test_new_rows_get_ids_from_the_sequence_even_when_its_values_are_not_one_run(world):
    """The importer allocates ids up front; on PostgreSQL it takes a run of the sequence's values
    when they are one (the usual case) and every value otherwise (another writer drew in between,
    or the sequence steps by more than one)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("ALTER SEQUENCE registry_resident_id_seq INCREMENT BY 3")
    try:
        rows = [row(name=f"冯{n}", id_number=person_id(seq=150 + i), room=f"{201 + i}", relation="")
                for i, n in enumerate("一二三四")]
        job = run(world.grid1_user, rows)
        assert job.status == "done", statuses(job)
        made = list(Resident.objects.filter(name__startswith="冯").order_by("id").values_list("name", "id"))
        assert [m[0] for m in made] == ["冯二", "冯三", "冯四", "冯一"]  # new people take their ids in pinyin order
        ids = [m[1] for m in made]
        assert len(set(ids)) == 4
        if connection.vendor == "postgresql":
            assert all(b - a == 3 for a, b in zip(ids, ids[1:], strict=False))
    finally:
        if connection.vendor == "postgresql":
            with connection.cursor() as c:
                c.execute("ALTER SEQUENCE registry_resident_id_seq INCREMENT BY 1")


@pytest.mark.django_db
def test_the_bulk_insert_writes_every_row_in_order_whatever_their_number_and_a_failure_leaves_none():
    """write._insert writes ROWS_PER_INSERT rows a statement on SQLite and the rest one by one;
    a statement that fails fails the whole write, and the transaction around it takes all back."""
    from django.db import IntegrityError, transaction

    from registry.models import CareTag
    from registry.services.importer import write

    cols = ["code", "name", "name_en", "category", "active", "sort"]
    rows = [(f"bulk-{i:03}", f"标签{i}", "", "care", True, i) for i in range(123)]
    write._insert(CareTag, cols, rows)
    got = list(CareTag.objects.filter(code__startswith="bulk-").order_by("id").values_list("code", "name", "sort"))
    assert got == [(r[0], r[1], r[5]) for r in rows]
    clash = [(f"more-{i:03}", "又一个", "", "care", True, 1) for i in range(60)]
    clash[54] = ("bulk-007", "重复", "", "care", True, 1)  # within the second statement of fifty
    with pytest.raises(IntegrityError), transaction.atomic():
        write._insert(CareTag, cols, clash)
    assert not CareTag.objects.filter(code__startswith="more-").exists()
    assert CareTag.objects.filter(code__startswith="bulk-").count() == 123
