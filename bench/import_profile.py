"""python -m bench.import_profile [--db sqlite|postgres|both] [--rows 100000] [--repeat 1] [--profile]

Where the resident import spends its time, with CPU time beside wall time (the machine is often
shared, so wall time alone says little). For each database, in a process of its own:

1. a seed database (migrations, the demo city's tree without residents, a street officer), kept
   under --state and reused;
2. a resident sheet of --rows valid, realistic rows (registry.demo.Synthesizer: households with
   relations, ID numbers that agree with birth date and gender, phones, care tags) written with
   XlsxWriter in constant-memory mode, every cell as text, as people fill the template; cached;
3. per repetition a fresh copy of the seed database (file copy on SQLite, CREATE DATABASE ...
   TEMPLATE on PostgreSQL), then
   - the raw baseline: python-calamine read + one executemany of the same rows into a flat table,
     committed;
   - registry.services.importer.run_import of the sheet (atomic mode), committed, with the phase timings
     the importer records in its outcome, and its report (the report is a separate job in
     production; under immediate huey it runs inside run_import, so it is timed apart too).

CPU columns: "py" is this process plus its reaped children (the forked row checkers); "db" is
the PostgreSQL backend serving this connection (from /proc/<pid>/stat; SQLite runs in-process).
Prints a table; --json writes the numbers too. Uses its own state directory and databases
(perf_import_seed / perf_import_run on 127.0.0.1:5432), never the demo or test databases.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
HEADERS = ["姓名", "身份证号", "性别", "出生日期", "民族", "联系电话", "户籍类型", "政治面貌", "网格", "小区", "楼栋",
           "单元", "房号", "房屋用途", "户号", "与户主关系", "关爱标签", "备注"]
GENDER = {"M": "男", "F": "女"}
RESIDENCE = {"registered": "户籍", "floating": "流动", "overseas": "境外"}
POLITICAL = {"masses": "群众", "cpc": "中共党员", "cpc_probationary": "中共预备党员", "cyl": "共青团员",
             "democratic": "民主党派", "non_partisan": "无党派人士"}
USE = {"owner": "自住", "rented": "出租", "vacant": "空置", "commercial": "商用"}
RELATION = {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母", "tenant": "租户", "sibling": "兄弟姐妹",
            "grandparent": "祖父母", "child_in_law": "儿媳/女婿"}


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.import_profile", description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--workers", type=int, default=0, help="LINLI_IMPORT_WORKERS for the importer (0: its default)")
    p.add_argument("--state", default="/tmp/linli-import-profile", help="seed databases, sheets, media")
    p.add_argument("--profile", action="store_true", help="cProfile run_import (single process) and print the top")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ------------------------------------------------------------------ CPU clocks

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


class Clock:
    """Wall, this process's CPU, reaped children's CPU and (PostgreSQL) the backend's CPU."""

    def __init__(self, backend_pid: int | None):
        self.backend_pid = backend_pid

    def now(self):
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)
        db = _proc_cpu(self.backend_pid) if self.backend_pid else 0.0
        return time.perf_counter(), time.process_time(), ch.ru_utime + ch.ru_stime, db

    @staticmethod
    def diff(a, b):
        return {"wall": b[0] - a[0], "cpu_py": (b[1] - a[1]) + (b[2] - a[2]), "cpu_children": b[2] - a[2],
                "cpu_db": b[3] - a[3]}


# ------------------------------------------------------------------ seed database and sheet

def _seed(state: Path, db: str) -> None:
    """Migrations, the demo tree (no residents), a street officer 'perf_street'."""
    from django.core.management import call_command
    from django.db import transaction

    from accounts.models import Role, User
    from registry.demo import build_tree
    from registry.testing import make_user

    call_command("migrate", verbosity=0)
    if User.objects.filter(username="perf_street").exists():
        return
    with transaction.atomic():
        tree = build_tree(boundaries=False)
        make_user("perf_street", Role.STREET_OFFICER, tree["streets"][0])


def _street():
    from accounts.models import User

    user = User.objects.get(username="perf_street")
    return user, user.roles.first().region


def make_sheet(path: Path, street, rows: int, seed: int = 7) -> int:
    """A sheet of `rows` new residents spread over the street's grids (every cell text)."""
    import xlsxwriter

    from regions.models import Level, Region
    from registry.demo import Synthesizer, _split
    from registry.models import CareTag

    grids = list(Region.objects.filter(level=Level.GRID, path__startswith=street.path).order_by("path"))
    synth = Synthesizer(seed=seed)
    tag_names = dict(CareTag.objects.values_list("code", "name"))
    tmp = path.with_suffix(".part")
    wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
    ws = wb.add_worksheet("居民信息")
    for c, h in enumerate(HEADERS):
        ws.write_string(0, c, h)
    r = 0
    for grid, n in zip(grids, _split(rows, len(grids), synth.rng), strict=True):
        plan = synth.grid(n, area_code=grid.code[:6])
        for b in plan.buildings:
            for h in b.houses:
                if not h.household:
                    continue
                for p in h.household.members:
                    r += 1
                    phone = synth.phone() if synth.rng.random() < 0.8 else ""
                    rel = ("孙子" if p.gender == "M" else "孙女") if p.relation == "grandchild" else RELATION.get(p.relation, "其他")
                    values = [p.name, p.id_number, GENDER[p.gender], p.birth.isoformat(), p.ethnicity, phone,
                              RESIDENCE[p.residence_type], POLITICAL[p.political_status], grid.code, b.estate,
                              b.number, str(h.unit), h.room, USE[h.use], "", rel,
                              "、".join(tag_names[t] for t in dict.fromkeys(p.tags) if t in tag_names and t not in (
                                  "elderly", "elderly80", "child")), ""]
                    for c, value in enumerate(values):
                        if value:
                            ws.write_string(r, c, value)
    wb.close()
    tmp.rename(path)
    return r


# ------------------------------------------------------------------ one database

def _fresh_run_db(db: str, state: Path) -> None:
    from django.db import connection, connections

    connections.close_all()
    if db == "sqlite":
        seed = state / "seed.sqlite3"
        run = state / "run.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(run) + suffix).unlink(missing_ok=True)
        shutil.copyfile(seed, run)
        connection.settings_dict["NAME"] = str(run)
    else:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as c:
            c.execute("DROP DATABASE IF EXISTS perf_import_run")
            c.execute("CREATE DATABASE perf_import_run TEMPLATE perf_import_seed")
        connection.settings_dict["NAME"] = "perf_import_run"
    connections.close_all()


def _backend_pid(db: str):
    from django.db import connection

    if db != "postgresql":
        return None
    with connection.cursor() as c:
        c.execute("SELECT pg_backend_pid()")
        return c.fetchone()[0]


def raw_baseline(path: Path, clock: Clock) -> dict:
    from django.db import connection, transaction
    from python_calamine import CalamineWorkbook

    cols = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS bench_flat")
        c.execute(f"CREATE TABLE bench_flat ({cols})")
    t0 = clock.now()
    with transaction.atomic():
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()[1:]
        marks = ", ".join(["%s"] * len(HEADERS))
        data = [tuple("" if v is None else str(v) for v in r[: len(HEADERS)]) for r in rows]
        with connection.cursor() as c:
            c.executemany(f"INSERT INTO bench_flat VALUES ({marks})", data)
    t1 = clock.now()
    with connection.cursor() as c:
        c.execute("DROP TABLE bench_flat")
    return {"rows": len(data), **Clock.diff(t0, t1)}


def linli_import(path: Path, clock: Clock, profile: bool) -> dict:
    from django.core.files.base import ContentFile

    from registry.models import ImportJob, ImportStatus, Resident
    from registry.services import importer
    from registry.services.importer import check

    user, street = _street()
    job = ImportJob(created_by=user, mode="atomic", status=ImportStatus.PENDING, original_name=path.name)
    job.set_region(street)
    job.file.save(path.name, ContentFile(path.read_bytes()), save=False)
    job.save()
    # The report is its own job in production; time it apart from the import.
    report_clock = {}
    import registry.tasks as tasks

    real_report = tasks.import_report

    def timed_report(job_id):
        a = clock.now()
        real_report(job_id)
        report_clock.update(Clock.diff(a, clock.now()))

    tasks.import_report = timed_report
    prof = None
    if profile:
        import cProfile

        check.WORKERS = 1
        prof = cProfile.Profile()
    try:
        t0 = clock.now()
        if prof:
            prof.enable()
        job = importer.run_import(job.id)
        if prof:
            prof.disable()
        t1 = clock.now()
    finally:
        tasks.import_report = real_report
    if prof:
        import pstats

        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
    outcome = importer.load_outcome(job) or {}
    total = Clock.diff(t0, t1)
    rep = report_clock or {"wall": 0.0, "cpu_py": 0.0, "cpu_children": 0.0, "cpu_db": 0.0}
    return {"status": job.status, "created": job.created_count, "errors": job.error_count, "message": job.message,
            "residents": Resident.objects.count(), "total": total, "report": rep,
            "import": {k: total[k] - rep[k] for k in total}, "phases": outcome.get("seconds", {})}


def child(args) -> dict:
    db = args.child
    state = Path(args.state)
    import django

    django.setup()
    from django.db import connection, connections

    # Seed database.
    if db == "sqlite":
        seed = state / "seed.sqlite3"
        connection.settings_dict["NAME"] = str(seed)
    else:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as c:
            if not c.execute("SELECT 1 FROM pg_database WHERE datname = 'perf_import_seed'").fetchone():
                c.execute("CREATE DATABASE perf_import_seed")
        connection.settings_dict["NAME"] = "perf_import_seed"
    connections.close_all()
    _seed(state, db)
    _user, street = _street()
    sheet = state / f"residents-{args.rows}.xlsx"
    if not sheet.exists():
        t = time.perf_counter()
        n = make_sheet(sheet, street, args.rows)
        print(f"[{db}] wrote {sheet} ({n} rows) in {time.perf_counter() - t:.1f} s", flush=True)
    connections.close_all()
    results = []
    for k in range(args.repeat):
        _fresh_run_db(db, state)
        clock = Clock(_backend_pid(connection.vendor))
        load = os.getloadavg()[0]
        raw = raw_baseline(sheet, clock)
        imp = linli_import(sheet, clock, args.profile)
        results.append({"db": db, "run": k + 1, "load": load, "raw": raw, "linli": imp})
        print(json.dumps(results[-1], ensure_ascii=False, default=str), flush=True)
    connections.close_all()
    return {"db": db, "results": results}


# ------------------------------------------------------------------ table

def _fmt(d):
    return f"{d['wall']:6.2f} | {d['cpu_py']:6.2f} | {d['cpu_db']:6.2f}"


def table(all_results: list[dict], rows: int) -> str:
    out = [f"Import of {rows:,} rows (.xlsx, every cell text). Times in seconds; cpu py = this process + forked "
           "checkers, cpu db = PostgreSQL backend.", "",
           "| db | run | load | what | wall | cpu py | cpu db | rows/s (wall) | rows/s (cpu) | × raw (wall) | × raw (cpu) |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in all_results:
        raw, imp = r["raw"], r["linli"]
        raw_cpu = raw["cpu_py"] + raw["cpu_db"]
        for label, d in (("raw baseline", raw), ("run_import (import only)", imp["import"]),
                         ("report (own job)", imp["report"])):
            cpu = d["cpu_py"] + d["cpu_db"]
            rate_w = rows / d["wall"] if d["wall"] else 0
            rate_c = rows / cpu if cpu else 0
            ratio_w = d["wall"] / raw["wall"] if raw["wall"] else 0
            ratio_c = cpu / raw_cpu if raw_cpu else 0
            out.append(f"| {r['db']} | {r['run']} | {r['load']:.1f} | {label} | {_fmt(d)} | {rate_w:,.0f} | {rate_c:,.0f} "
                       f"| {ratio_w:.1f} | {ratio_c:.1f} |")
        phases = imp.get("phases") or {}
        if phases:
            out.append(f"| {r['db']} | {r['run']} | | phases (wall) | " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items())
                       + " | | | | | | |")
        out.append(f"| {r['db']} | {r['run']} | | outcome | {imp['status']}, {imp['created']:,} created, "
                   f"{imp['errors']} errors | | | | | | |")
    return "\n".join(out)


def main(argv=None):
    args = parse(argv)
    state = Path(args.state)
    state.mkdir(parents=True, exist_ok=True)
    if args.child:
        res = child(args)
        (state / f"result-{args.child}.json").write_text(json.dumps(res, ensure_ascii=False, default=str))
        return 0
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    everything = []
    for db in dbs:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "linli.settings", "LINLI_VAR_DIR": str(state / "var"),
               "MEDIA_ROOT": str(state / "media"), "LINLI_TESTING": "1", "DEBUG": "0", "LOG_LEVEL": "ERROR",
               "DATABASE_URL": (f"sqlite:///{state / 'seed.sqlite3'}" if db == "sqlite" else f"{PG}/perf_import_seed")}
        if args.workers:
            env["LINLI_IMPORT_WORKERS"] = str(args.workers)
        cmd = [sys.executable, "-m", "bench.import_profile", "--child", db, "--rows", str(args.rows),
               "--repeat", str(args.repeat), "--state", str(state)] + (["--profile"] if args.profile else [])
        done = subprocess.run(cmd, cwd=ROOT, env=env)
        if done.returncode != 0:
            print(f"[{db}] failed with exit code {done.returncode}")
            continue
        everything += json.loads((state / f"result-{db}.json").read_text())["results"]
    print()
    print(table(everything, args.rows))
    if args.json:
        Path(args.json).write_text(json.dumps(everything, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
