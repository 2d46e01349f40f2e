"""Per-process snapshots (linli/snapshot.py) follow changes made by other processes: through the
shared cache (Redis) or, on a single machine without one, through a version file per database."""

import pytest
from django.db import connection

from linli.snapshot import Snapshot

pytestmark = pytest.mark.django_db


def two_processes(name):
    """Two Snapshots of the same data, as two processes would hold them (no signal between them)."""
    source = {"value": "old"}
    loads = []

    def load():
        loads.append(1)
        return source["value"]

    return Snapshot(name, load), Snapshot(name, load), source, loads


def test_without_a_shared_cache_a_committed_change_reaches_the_other_process_at_its_next_check(django_capture_on_commit_callbacks):
    web, jobs, source, loads = two_processes("test-roles")
    assert web.local  # the test settings use local memory, as a single-machine install does
    assert web.get() == "old" and jobs.get() == "old"
    source["value"] = "new"
    with django_capture_on_commit_callbacks(execute=True):
        web.changed()
    assert web.get() == "new"  # the process that made the change: at once
    assert jobs.get() == "old"  # the other: not before its next check...
    jobs._state["checked"] = 0  # ...which is now due (at most check_seconds later)
    assert jobs.get() == "new"
    n = len(loads)
    jobs._state["checked"] = 0
    assert jobs.get() == "new" and len(loads) == n  # an unchanged version loads nothing


def test_a_change_rolled_back_is_not_announced(django_capture_on_commit_callbacks):
    web, jobs, source, _loads = two_processes("test-rollback")
    web.get(), jobs.get()
    with django_capture_on_commit_callbacks(execute=False):  # the transaction never commits
        web.changed()
    jobs._state["checked"] = 0
    assert jobs.get() == "old"
    assert not web.version_file().exists()


def test_each_database_has_its_own_version_file(monkeypatch):
    snap = Snapshot("test-db", dict)
    here = snap.version_file()
    monkeypatch.setitem(connection.settings_dict, "NAME", "another_database")
    assert snap.version_file() != here and snap.version_file().name == here.name


def test_a_change_announced_by_another_process_is_seen_here(settings):
    """A real second process (the job consumer beside the web server) announces a change."""
    import os
    import subprocess
    import sys

    source = {"value": "old"}
    here = Snapshot("test-other-process", lambda: source["value"])
    assert here.get() == "old"
    source["value"] = "new"
    code = (
        "import sys, django; django.setup()\n"
        "from django.db import connection\n"
        "connection.settings_dict.update(ENGINE=sys.argv[1], HOST=sys.argv[2], PORT=sys.argv[3], NAME=sys.argv[4])\n"
        "from linli.snapshot import Snapshot\n"
        "Snapshot('test-other-process', dict)._bump()\n"
    )
    d = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "linli.settings", "LINLI_VAR_DIR": str(settings.VAR_DIR)}
    subprocess.run([sys.executable, "-c", code, d["ENGINE"], str(d.get("HOST") or ""), str(d.get("PORT") or ""), str(d["NAME"])],
                   check=True, env=env, cwd=str(settings.BASE_DIR), timeout=60)
    here._state["checked"] = 0
    assert here.get() == "new"
