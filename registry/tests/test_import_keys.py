"""PostgreSQL: the streamed write checks the foreign keys of the rows it wrote once per key
(registry.services.importer.write.KeysCheckedOnce) instead of a trigger per row and key. It must refuse what
the triggers refuse, lock what they lock, and leave the triggers on for everything after it."""

import pytest
from django.db import IntegrityError, OperationalError, connection, connections, transaction

from registry.models import Building, Household, Resident
from registry.services import importer
from registry.services.importer import plan
from registry.services.importer import write as import_write
from registry.tests.test_import_split import sheet
from registry.tests.test_import_streamed import Undo, households, registry_now, small_parts  # noqa: F401 (autouse)
from registry.tests.test_import_support import statuses, upload

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's triggers")


def replication_role() -> str:
    with connection.cursor() as c:
        c.execute("SHOW session_replication_role")
        return c.fetchone()[0]


def imported(user, data, monkeypatch, *, once: bool):
    """The registry a streamed import leaves with the keys checked once or by the triggers, undone."""
    finished = []
    real = import_write.KeysCheckedOnce.finish
    monkeypatch.setattr(import_write, "CHECK_KEYS_ONCE", once)
    monkeypatch.setattr(import_write.KeysCheckedOnce, "finish", lambda self: finished.append(1) or real(self))
    try:
        with transaction.atomic():
            job = importer.start_import(user, upload(data), mode="atomic")
            job.refresh_from_db()
            got = (registry_now(), statuses(job), job.status, replication_role())
            raise Undo
    except Undo:
        return got, finished


def test_keys_checked_once_leave_the_registry_as_the_triggers_do_and_turn_the_triggers_back_on(world, monkeypatch):
    data = sheet(households(40))
    by_triggers, finished = imported(world.grid1_user, data, monkeypatch, once=False)
    assert finished == [] and by_triggers[2] == "done"
    once, finished = imported(world.grid1_user, data, monkeypatch, once=True)
    assert finished == [1]  # the test database's role is a superuser: the keys were checked once
    assert once == by_triggers
    assert once[3] == "origin"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("once", [True, False])
def test_a_row_naming_a_household_that_does_not_exist_undoes_the_whole_import(world, monkeypatch, once):
    monkeypatch.setattr(import_write, "CHECK_KEYS_ONCE", once)
    real = plan.Plan.write
    broken = []

    def write(plan):  # a writer bug: the first batch's first resident pointed at no household
        real(plan)
        if not broken:
            with connection.cursor() as c:
                c.execute('UPDATE "registry_resident" SET "household_id" = 2000000000 WHERE "id" = '
                          '(SELECT max("id") FROM "registry_resident")')
            broken.append(1)

    monkeypatch.setattr(plan.Plan, "write", write)
    before = Resident.objects.count()
    job = importer.start_import(world.grid1_user, upload(sheet(households(40, tags=False))), mode="atomic")
    job.refresh_from_db()
    assert broken and job.status == "failed"
    assert Resident.objects.count() == before and not Building.objects.filter(estate="幸福小区").exists()
    assert replication_role() == "origin"


@pytest.mark.django_db(transaction=True)
def test_the_rows_the_new_rows_name_are_locked_until_the_commit_and_missing_ones_are_refused(world):
    other = connections.create_connection("default")
    try:
        with transaction.atomic():
            keys = import_write.KeysCheckedOnce()
            keys.start()
            assert replication_role() == "replica"
            Building.objects.create(region=world.grid1, region_path=world.grid1.path, estate="锁楼", number="1")
            keys.finish()
            assert replication_role() == "origin"
            with pytest.raises(OperationalError), other.cursor() as c:  # the grid cannot be deleted meanwhile
                c.execute("SELECT 1 FROM regions_region WHERE id = %s FOR UPDATE NOWAIT", [world.grid1.pk])
        other.rollback()
        with other.cursor() as c:
            c.execute("SELECT 1 FROM regions_region WHERE id = %s FOR UPDATE NOWAIT", [world.grid1.pk])
    finally:
        other.close()
    # A key above the table's highest id at the start (a row this import would have made) and one
    # below it (a row that was there before) are both looked for.
    for head in ("made", "older"):
        with pytest.raises(IntegrityError, match="registry_resident"), transaction.atomic():
            keys = import_write.KeysCheckedOnce()
            keys.start()
            top = keys.floor[Resident]
            head_id = top + 1000 if head == "made" else -5
            b = Building.objects.create(region=world.grid1, region_path=world.grid1.path, estate="锁楼", number="2")
            house = b.houses.create(region=world.grid1, region_path=world.grid1.path, unit="1", room="101")
            Household.objects.create(region=world.grid1, region_path=world.grid1.path, house=house, number="", head_id=head_id)
            keys.finish()
    assert not Building.objects.filter(estate="锁楼", number="2").exists()
