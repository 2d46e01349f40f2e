"""A big sheet is written part by part while the later parts are still being checked
(registry.services.importer.job._write_while_checking). Whatever the file, the registry must come out exactly
as the one-step import leaves it: the streamed write keeps a file only when every row is new and
valid, and otherwise undoes its parts and takes the one-step path."""

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.db import connection, transaction

from registry.models import Building, House, Household, HouseholdMembership, ImportJob, Resident, ResidentEvent, ResidentTag
from registry.services import importer
from registry.services.importer import check, plan, read
from registry.services.importer import job as import_job
from registry.tests.test_import_split import sheet
from registry.tests.test_import_support import person_id, row, statuses, upload

RELATIONS = ["户主", "配偶", "子女", "子女"]


@pytest.fixture(autouse=True)
def small_parts(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(check, "WORKERS", 2)
    monkeypatch.setattr(read, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(import_job, "STREAM_PART_BYTES", 2_000)  # about ten rows a part


def households(n, start=3000, tags=True) -> list[list]:
    """n households of one to four people, in address order: buildings of eight households over
    two units (a building runs across several parts, its second unit coming later), a use
    given only on a household's last row, a care tag now and then."""
    out, seq = [], start
    for h in range(n):
        size = 1 + h % 4
        for m in range(size):
            seq += 1
            birth = dt.date(1950 + seq % 45, 1 + seq % 12, 1 + seq % 28)
            out.append(row(name=f"流{chr(0x4e00 + seq)}", id_number=person_id(birth.year, birth.month, birth.day, seq=seq),
                           building=str(1 + h // 8), unit=str(1 + (h % 8) // 4), room=f"{101 + h % 4}",
                           relation=RELATIONS[m] if size > 1 else "", use="出租" if m == size - 1 and h % 3 == 0 else "",
                           tags="低保" if tags and seq % 7 == 0 else ""))
    return out


def registry_now() -> dict:
    """What an import leaves, by natural keys (ids aside)."""
    people = Resident.objects.filter(name__startswith="流")
    return {
        "buildings": sorted(Building.objects.filter(estate="幸福小区").values_list("number", "units")),
        "houses": sorted(House.objects.filter(building__estate="幸福小区").values_list("building__number", "unit", "room", "use")),
        "households": sorted(Household.objects.filter(house__building__estate="幸福小区").values_list(
            "house__building__number", "house__unit", "house__room", "number", "head__name")),
        "residents": sorted(people.values_list("name", "relation", "household__house__building__number",
                                                "household__house__unit", "household__house__room")),
        "memberships": sorted(HouseholdMembership.objects.filter(resident__in=people).values_list("resident__name", "relation")),
        "events": sorted(ResidentEvent.objects.filter(resident__in=people).values_list("resident__name", "kind", "to_household__house__room")),
        "tags": sorted(ResidentTag.objects.filter(resident__in=people).values_list("resident__name", "tag__code")),
        "log": LogEntry.objects.count(),
    }


class Undo(Exception):
    pass


def one_step(user, data, mode, monkeypatch):
    """The registry and row statuses the one-step import gives, then undone."""
    with monkeypatch.context() as m:
        m.setattr(import_job, "_streams", lambda kind: False)
        try:
            with transaction.atomic():
                job = importer.start_import(user, upload(data), mode=mode)
                job.refresh_from_db()
                got = (registry_now(), statuses(job), job.status, job.created_count, job.updated_count)
                raise Undo
        except Undo:
            return got


def streamed(user, data, mode, monkeypatch):
    kept = []
    real = import_job._write_while_checking

    def spy(*a):
        try:
            out = real(*a)
        except import_job._NotStreamed:
            kept.append(False)
            raise
        kept.append(True)
        return out

    monkeypatch.setattr(import_job, "_write_while_checking", spy)
    job = importer.start_import(user, upload(data), mode=mode)
    job.refresh_from_db()
    return (registry_now(), statuses(job), job.status, job.created_count, job.updated_count), kept


def test_a_file_of_new_people_is_written_as_it_is_checked_and_comes_out_as_in_one_step(world, monkeypatch):
    data = sheet(households(40))
    before = one_step(world.grid1_user, data, "atomic", monkeypatch)
    opened = []
    real_open = read.SplitSheet.open.__func__
    monkeypatch.setattr(read.SplitSheet, "open",
                        classmethod(lambda cls, path, parts, **kw: opened.append(parts) or real_open(cls, path, parts, **kw)))
    after, kept = streamed(world.grid1_user, data, "atomic", monkeypatch)
    assert kept == [True] and opened[0] >= 8
    assert after == before
    assert after[2] == "done" and after[3] == 100
    assert after[0]["log"] == before[0]["log"]  # no audit entries for buildings made whole part by part
    assert len(after[0]["households"]) == 40 and {b[1] for b in after[0]["buildings"]} == {2}


@pytest.mark.parametrize("case", ["known person late", "household split", "bad row late", "same person twice"])
@pytest.mark.parametrize("mode", ["atomic", "valid_rows"])
def test_a_file_the_streamed_write_cannot_take_whole_comes_out_as_in_one_step(world, monkeypatch, case, mode):
    rows = households(40)
    if case == "known person late":  # a household registered already, one of them renamed: the last part
        first = importer.start_import(world.grid1_user, upload(sheet(rows[-4:])), mode="atomic")
        first.refresh_from_db()
        assert first.status == "done"
        rows[-1][0] = "流改名"
    elif case == "household split":  # a member of the first household written far from it
        rows.append(row(name="流远亲", id_number=person_id(1990, 5, 6, seq=901), building="1", unit="1", room="101",
                        relation="子女"))
    elif case == "bad row late":
        rows[-3][1] = "320508198001021234"  # a wrong checksum
    else:
        rows.append(list(rows[2]))
    data = sheet(rows)
    before = one_step(world.grid1_user, data, mode, monkeypatch)
    after, kept = streamed(world.grid1_user, data, mode, monkeypatch)
    assert kept == [False]
    assert after == before


# PostgreSQL tells the count through a connection of its own, which sees only committed rows.
# (No care tags: a transactional test before this one may have emptied the migrations' tags.)
@pytest.mark.django_db(transaction=True)
def test_the_rows_checked_show_while_a_streamed_import_runs(world, monkeypatch):
    seen = []
    real = plan.Plan.write

    def write(plan):
        job = ImportJob.objects.get(pk=plan.job.pk)
        seen.append(importer.rows_done(job))
        return real(plan)

    monkeypatch.setattr(plan.Plan, "write", write)
    job = importer.start_import(world.grid1_user, upload(sheet(households(40, tags=False))), mode="atomic")
    job.refresh_from_db()
    assert job.status == "done", [s for s in statuses(job) if s.startswith("错误")][:3]
    assert importer.rows_done(job) == job.processed_rows == 100
    assert len(seen) >= 8 and seen == sorted(seen) and 0 < seen[0] < 100 and seen[-1] == 100


@pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL tells the count through a second connection")
@pytest.mark.django_db(transaction=True)
def test_a_streamed_import_run_inside_a_caller_transaction_does_not_wait_for_its_own_job_row(world):
    from django.core.files.base import ContentFile

    job = ImportJob(created_by=world.grid1_user, mode="atomic", status="pending", original_name="台账.xlsx")
    job.set_region(world.grid1)
    job.file.save("台账.xlsx", ContentFile(sheet(households(40, tags=False))), save=False)
    job.save()
    with transaction.atomic():  # run_import marks the job running in this transaction: its row is locked
        job = importer.run_import(job.pk)
    assert job.status == "done" and job.created_count == 100
