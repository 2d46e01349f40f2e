"""Running an import job: the upload stored and queued (start_import), the job's run in three
steps, read, check, write (run_import), its progress while it runs, its status on the ImportJob
row, and its outcome (every row's sheet number and status) kept for the row report.

A big .xlsx is written part by part while the later parts are still being checked
(_write_while_checking), when the file allows it; any other file is read, checked and then
written in one step. Mode "atomic" writes nothing when any row is bad (status rejected); mode
"valid_rows" writes the good rows and reports the others.
"""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import resource
import time
import zipfile

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.access import in_scope
from linli.db import sqlite_pragmas
from linli.errors import DomainError, Forbidden
from regions.access import home_region

from ...models import ImportJob, ImportMode, ImportStatus
from . import check
from .check import FORKED, Context, check_all, household_key, read_part
from .headers import find_header
from .plan import REPORT_ERROR, REPORT_NEW, REPORT_ROLLED_BACK, REPORT_UPDATED, Plan
from .read import SplitSheet, first_sheet, read_rows, row_filled, sniff
from .write import KeysCheckedOnce

log = logging.getLogger("linli.import")


def start_import(actor, upload, *, mode: str = "atomic", region=None) -> ImportJob:
    """Check the upload and the actor, store an ImportJob and queue its run (tasks.import_job)."""
    if actor is None or not actor.has_perm("registry.import"):
        raise Forbidden("forbidden", _("You do not have permission for this."))
    if region is None:
        region = home_region(actor)
    if region is None or not in_scope(actor, region.path):
        raise Forbidden("forbidden", _("That is outside your area."))
    if mode not in ImportMode.values:
        raise DomainError("import_mode", _("Choose how to import: all or nothing, or the valid rows."), field="mode")
    if upload is None:
        raise DomainError("import_file_missing", _("Choose a file to import."), field="file")
    limit = settings.LINLI_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise DomainError(
            "import_file_too_big", _("The file is larger than %(mb)s MB; split it into smaller files."),
            field="file", mb=limit // (1024 * 1024),
        )
    if upload.size == 0:
        raise DomainError("import_file_empty", _("The file is empty."), field="file")
    data = b"".join(upload.chunks())
    if len(data) > limit:
        raise DomainError(
            "import_file_too_big", _("The file is larger than %(mb)s MB; split it into smaller files."),
            field="file", mb=limit // (1024 * 1024),
        )
    sniff(data[:4096], io.BytesIO(data), upload.name)
    name = os.path.basename(upload.name or "import")[:200]
    job = ImportJob(created_by=actor, mode=mode, status=ImportStatus.PENDING, original_name=name)
    job.set_region(region)
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    from ... import tasks

    tasks.import_job(job.id)
    job.refresh_from_db()
    return job


def _no_rows() -> DomainError:
    return DomainError("import_empty", _("The sheet has a header but no rows."), field="file")


def _started(job: ImportJob, total: int):
    if total == 0:
        raise _no_rows()
    ImportJob.objects.filter(pk=job.pk).update(total_rows=total, processed_rows=0)


def _read_and_check(split: SplitSheet, skip: int, ctx: Context, job: ImportJob) -> tuple[list[int], list]:
    """The rows of a split sheet read and checked on all cores: forked processes take the later
    parts while this one reads and checks the first (and reports progress). Returns (sheet row
    numbers, checked rows) in sheet order."""
    import multiprocessing

    _started(job, split.rows_after(skip))
    FORKED["split"], FORKED["ctx"], FORKED["skip"] = split, ctx, skip
    try:
        with multiprocessing.get_context("fork").Pool(len(split.bounds) - 1) as pool:
            pending = [pool.apply_async(read_part, (k,)) for k in range(1, len(split.bounds))]
            parts = [read_part(0, lambda n: _progress(job.pk, n))]
            for done in pending:
                parts.append(done.get())  # re-raises a failure in a reader
                _progress(job.pk, sum(len(p[0]) for p in parts))
    finally:
        FORKED.clear()
    rownos = [n for part in parts for n in part[0]]
    checked = [c for part in parts for c in part[1]]
    if not rownos:
        raise _no_rows()
    ImportJob.objects.filter(pk=job.pk).update(total_rows=len(rownos))
    return rownos, checked


class _NotStreamed(Exception):
    """The file is not one the streamed write can take whole: undo its writes, take the one-step path."""


def _lower_priority():
    try:
        os.nice(10)  # the writing process comes first; the checkers take the cycles it leaves
    except OSError:
        pass


# The SQLite page cache of a large import's write (see _run).
WRITE_CACHE_KIB = 256 * 1024
# Rows of the template per MB of sheet XML, about; the streamed write takes parts of this many MB.
STREAM_PART_BYTES = 6_000_000


def _streams(kind: str) -> bool:
    """Whether a big sheet is written part by part as it is checked: when there are cores to
    check beside the writing."""
    return kind == "xlsx" and check.WORKERS > 1


def _stream_parts(path: str) -> int:
    """How many parts _write_while_checking cuts a sheet into: about STREAM_PART_BYTES of XML
    each, at least one per checker."""
    try:
        with zipfile.ZipFile(path) as z:
            name = first_sheet(z)
            size = z.getinfo(name).file_size if name else 0
    except (zipfile.BadZipFile, KeyError, OSError):
        return check.WORKERS
    return max(check.WORKERS, min(64, size // STREAM_PART_BYTES))


def _write_while_checking(split: SplitSheet, skip: int, ctx: Context, job: ImportJob, today, got: dict) -> list[str]:
    """Write the sheet part by part as the forked checkers hand the parts over, while they read
    and check the later ones: the writing (one core on SQLite; the client and one server
    process on PostgreSQL) then runs beside the checking instead of after it. Each batch goes through the same Plan.resolve and
    Plan.write as a whole file, and gives the same rows as one step when every row is new and
    valid and no household is shared between batches: a part's last household waits for the
    next part, and buildings and houses made by an earlier batch are completed without an audit
    entry (one step would have made them whole). All batches are one transaction; when one
    breaks this, _NotStreamed is raised once every part is read, undoing every batch written;
    got["rownos"] and got["checked"] then hold every row read for the one-step path."""
    import multiprocessing

    rownos, checked, statuses = got.setdefault("rownos", []), got.setdefault("checked", []), []
    made = {"buildings": set(), "houses": set(), "households": set()}
    held_nos: list[int] = []
    held: list = []

    def write(nos, rows) -> bool:
        if not rows:
            return True
        plan = Plan(job, ctx, today, made=made)
        status = plan.resolve(nos, rows)
        if any(x != REPORT_NEW for x in status):
            return False
        if any((hh := plan._existing_household(key)) is not None and hh["id"] in made["households"]
               for key in plan.groups):
            return False
        plan.write()
        if plan.logged:
            return False
        statuses.extend(status)
        return True

    streamed = True
    progress = _Progress(job)
    keys = KeysCheckedOnce() if KeysCheckedOnce.allowed() else None
    FORKED["split"], FORKED["ctx"], FORKED["skip"] = split, ctx, skip
    try:
        # The checkers are forked before the transaction begins.
        with multiprocessing.get_context("fork").Pool(check.WORKERS, initializer=_lower_priority) as pool, \
                sqlite_pragmas(cache_kib=WRITE_CACHE_KIB), transaction.atomic():
            if keys:
                keys.start()
            for nos, part in pool.imap(read_part, range(len(split.bounds))):
                rownos.extend(nos)
                checked.extend(part)
                progress(len(rownos))
                if not streamed:
                    continue
                batch_nos, batch = held_nos + nos, held + part
                cut = len(batch)
                if batch and batch[-1].__class__ is not str:  # the last household may go on in the next part
                    last = household_key(batch[-1])
                    while cut and batch[cut - 1].__class__ is not str and household_key(batch[cut - 1]) == last:
                        cut -= 1
                held_nos, held = batch_nos[cut:], batch[cut:]
                streamed = write(batch_nos[:cut], batch[:cut])
            if streamed:
                streamed = write(held_nos, held)
            if not rownos:
                raise _no_rows()
            if not streamed:
                raise _NotStreamed  # undoes every batch written
            if keys:
                keys.finish()  # raises IntegrityError, which undoes every batch written
    finally:
        FORKED.clear()
        progress.close()
    return statuses


# ---------------------------------------------------------------- progress, status and outcome

def _progress(job_id: int, n: int):
    ImportJob.objects.filter(pk=job_id).update(processed_rows=n)


def _side_progress_path(job: ImportJob) -> str:
    return job.file.path + ".progress"


class _Progress:
    """Rows checked so far, told from inside the streamed write's transaction, where an update
    of the job's row would show only at the commit: on PostgreSQL through a connection of its
    own; on SQLite, whose one writer is this transaction, in a small file beside the upload
    (rows_done reads it)."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.side = _side_progress_path(job) if connection.vendor == "sqlite" else None
        self.other = None if self.side else connections.create_connection(connection.alias)

    def __call__(self, n: int):
        if self.side:
            with open(self.side, "w") as f:
                f.write(str(n))
            return
        if self.other is None:
            return
        try:
            with self.other.cursor() as c:
                # Should a caller's own open transaction hold the job's row, wait a moment, not for ever.
                c.execute("SET lock_timeout = '200ms'")
                c.execute(f'UPDATE "{ImportJob._meta.db_table}" SET "processed_rows" = %s WHERE "id" = %s', [n, self.job.pk])
        except DatabaseError:
            log.warning("import job %s: progress not shown", self.job.pk, exc_info=True)
            self.close()
            self.other = None

    def close(self):
        if self.side:
            try:
                os.unlink(self.side)
            except OSError:
                pass
        elif self.other is not None:
            self.other.close()


def rows_done(job: ImportJob) -> int:
    """Rows checked so far (see _Progress)."""
    if job.status == ImportStatus.RUNNING and job.file:
        try:
            with open(_side_progress_path(job)) as f:
                return max(job.processed_rows, int(f.read() or 0))
        except (OSError, ValueError):
            pass
    return job.processed_rows


def run_import(job_id: int) -> ImportJob:
    job = ImportJob.objects.select_related("region", "created_by").get(pk=job_id)
    if job.status not in (ImportStatus.PENDING, ImportStatus.RUNNING):
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    # The import makes millions of small objects and no reference cycles to speak of; the cyclic
    # collector would walk the whole heap (the sheet's rows included) again and again, and in the
    # forked checkers it would also copy every page it touches. Off while it runs.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        outcome = _run(job)
    except DomainError as e:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.REJECTED, message=e.text(), finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    except Exception as e:  # a bug or the database failing: nothing written, say so
        log.exception("import job %s failed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, message=gettext("The import failed: %(error)s") % {"error": type(e).__name__},
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    finally:
        if gc_was_on:
            gc.enable()
    job.refresh_from_db()
    if job.status == ImportStatus.DONE and (job.created_count or job.updated_count):
        from ...hooks import area_changed

        area_changed(job.region_path)
    if outcome is not None:
        save_outcome(job, outcome)
        from ... import tasks

        tasks.import_report(job.pk)
        job.refresh_from_db()
    return job


def outcome_name(job) -> str:
    return f"imports/results/job-{job.pk}.json"


def save_outcome(job, outcome: dict):
    name = outcome_name(job)
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(json.dumps(outcome, ensure_ascii=False, default=str).encode()))


def load_outcome(job) -> dict | None:
    name = outcome_name(job)
    if not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as f:
        return json.loads(f.read().decode())


def store_report(job: ImportJob, name: str, content) -> str:
    """Keep the row report (a File) on the job and delete the upload it was made from (plain
    personal data); returns the report's storage name."""
    job.report.save(name, content, save=False)
    ImportJob.objects.filter(pk=job.pk).update(report=job.report.name)
    job.file.delete(save=False)
    ImportJob.objects.filter(pk=job.pk).update(file="")
    return job.report.name


def _clock() -> tuple[float, float]:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), time.process_time() + children.ru_utime + children.ru_stime


def _run(job: ImportJob) -> dict:
    clock = [_clock()]
    seconds: dict[str, float] = {}

    def lap(name):  # wall and CPU seconds (this process and its reaped checkers) of each step
        t = _clock()
        seconds[name] = round(t[0] - clock[0][0], 3)
        seconds[name + "_cpu"] = round(t[1] - clock[0][1], 3)
        clock[0] = t

    path = job.file.path
    with open(path, "rb") as f:
        head = f.read(4096)
    kind = sniff(head, path, job.original_name)
    streams = _streams(kind)
    split = (SplitSheet.open(path, _stream_parts(path), first=0.2) if streams else SplitSheet.open(path, check.WORKERS)) \
        if kind == "xlsx" else None
    today = timezone.localdate()
    written = False
    if split is not None:
        lap("read")  # the cut; the parts are read by the checkers
        try:
            header_index, mapping = find_header(split.head())
            ctx = Context(job.region, mapping, today)
            lap("prepare")
            if streams:
                got: dict = {}
                _started(job, split.rows_after(header_index + 1))
                try:
                    statuses = _write_while_checking(split, header_index + 1, ctx, job, today, got)
                    written = True
                    lap("write")
                except _NotStreamed:
                    lap("streamed")
                rownos, checked = got["rownos"], got["checked"]
                ImportJob.objects.filter(pk=job.pk).update(total_rows=len(rownos))
            else:
                rownos, checked = _read_and_check(split, header_index + 1, ctx, job)
        except (DomainError, DatabaseError):  # the database refusing the write is no reading problem
            raise
        except Exception:  # a part that does not read: read the file whole, which says what is wrong
            log.warning("import job %s: the split sheet did not read, reading it whole", job.pk, exc_info=True)
            split = None
    if split is None:
        rows = read_rows(path, kind)
        lap("read")
        header_index, mapping = find_header(rows)
        body = rows[header_index + 1:]
        # Keep spreadsheet row numbers; drop empty rows (trailing ones, blank lines).
        numbered = [(header_index + 2 + i, row) for i, row in enumerate(body) if row_filled(row)]
        del rows, body
        _started(job, len(numbered))
        ctx = Context(job.region, mapping, today)
        lap("prepare")
        rownos = [n for n, _r in numbered]
        checked = check_all([r for _n, r in numbered], ctx, lambda n: _progress(job.pk, n))
    del split
    total = len(rownos)
    if not written:
        lap("check")
        plan = Plan(job, ctx, today)
        statuses = plan.resolve(rownos, checked)
        lap("resolve")
    errors = sum(1 for s in statuses if s.startswith(REPORT_ERROR))
    atomic = job.mode == ImportMode.ALL_OR_NOTHING
    if errors and atomic:
        statuses = [s if s.startswith(REPORT_ERROR) else REPORT_ROLLED_BACK for s in statuses]
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.REJECTED, error_count=errors, created_count=0, updated_count=0, processed_rows=total,
            message=gettext("%(n)s rows have errors; nothing was imported. Correct them and upload the file again.") % {"n": errors},
            finished_at=timezone.now(),
        )
    else:
        # A bigger SQLite page cache for the write. A large import inserts into every index of
        # tables of a million rows at random places; with the connection's usual cache the same
        # index pages are evicted and read back over and over (bench/NOTES.md: the sizes tried).
        if not written:
            with sqlite_pragmas(cache_kib=WRITE_CACHE_KIB), transaction.atomic():  # restored after the commit
                plan.write()
                lap("write")
            lap("commit")
        created = sum(1 for s in statuses if s == REPORT_NEW)
        updated = sum(1 for s in statuses if s == REPORT_UPDATED)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.DONE, error_count=errors, created_count=created, updated_count=updated,
            processed_rows=total, finished_at=timezone.now(),
            message=gettext("%(c)s new, %(u)s updated, %(e)s refused.") % {"c": created, "u": updated, "e": errors},
        )
    return {"header_index": header_index, "kind": kind, "rows": rownos, "statuses": statuses,
            "seconds": seconds}
