"""The work done for one database (runs in its own process, see __main__)."""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def _log(msg):
    print(msg, flush=True)


def _use(db: str, scale: str):
    """Point the default connection at the bench database for this scale."""
    from django.db import connection

    from bench.__main__ import db_url

    url = db_url(db, scale)
    name = url.split("sqlite:///", 1)[1] if db == "sqlite" else url.rsplit("/", 1)[1]
    connection.close()
    connection.settings_dict["NAME"] = name
    return name


def _reset(db: str, name: str):
    from django.db import connection

    connection.close()
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            p = Path(name + suffix)
            if p.exists():
                p.unlink()
        return
    import psycopg

    from bench.__main__ import PG_HOST

    with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')


def _code_key() -> str:
    """What a generated database depends on: the migrations on disk and the generator's code."""
    import hashlib

    from django.db.migrations.loader import MigrationLoader

    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for key in sorted(MigrationLoader(None, ignore_no_migrations=True).disk_migrations):
        h.update(repr(key).encode())
    for f in ("bench/generate.py", "registry/demo.py"):
        h.update((root / f).read_bytes())
    return h.hexdigest()[:16]


def ensure_city(db: str, scale: str, residents: int, args) -> dict:
    from django.core.management import call_command

    from bench.generate import generate

    name = _use(db, scale)
    state_path = OUT / f"state-{db}-{scale}.json"
    key = {"residents": residents, "seed": args.seed, "code": _code_key()}
    if args.reuse and state_path.exists():
        state = json.loads(state_path.read_text())
        if state.get("key") == key:
            _log(f"-- reusing {name} ({residents:,} residents)")
            return state
    _log(f"-- building {name}: {residents:,} residents")
    _reset(db, name)
    _use(db, scale)
    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.perf_counter() - t
    g = generate(residents, seed=args.seed, workers=args.workers, log=_log)
    if db == "postgres":
        # A database freshly loaded has no visibility map: index-only scans read the table too,
        # and the first reads of each page write its hint bits. Autovacuum would see to it in
        # production; it may be off (it is on the bench machine), so vacuum once here.
        from django.db import connection

        t = time.perf_counter()
        with connection.cursor() as c:
            c.execute("VACUUM (ANALYZE)")
        _log(f"-- vacuumed in {time.perf_counter() - t:.1f} s")
    state = {"key": key, "generated": {
        "residents": g.residents, "households": g.households, "houses": g.houses, "buildings": g.buildings,
        "tags": g.tags, "organizations": g.organizations, "grids": g.grids, "seconds": round(g.seconds, 1),
        "tree_seconds": round(g.tree_seconds, 1), "migrate_seconds": round(migrate_seconds, 1),
        "residents_per_second": round(g.residents / max(g.seconds, 1e-9)), "workers": args.workers,
        "id_collisions_redrawn": g.id_collisions_fixed,
        "db_size_mb": _db_size(db, name),
    }, "sample": g.sample}
    state_path.write_text(json.dumps(state, ensure_ascii=False))
    _log(f"-- generated in {g.seconds:.1f} s ({state['generated']['residents_per_second']:,} residents/s)")
    return state


def _db_size(db: str, name: str) -> float:
    from django.db import connection

    if db == "sqlite":
        return round(sum(Path(name + s).stat().st_size for s in ("", "-wal") if Path(name + s).exists()) / 1e6, 1)
    with connection.cursor() as c:
        c.execute("SELECT pg_database_size(current_database())")
        return round(c.fetchone()[0] / 1e6, 1)


def child(args):
    import django

    django.setup()
    from bench import benchmarks as b

    only = set(args.only or ["generate", "search", "lookup", "export", "import"])
    db = args.db
    results = {"db": db, "command": os.environ.get("BENCH_COMMAND", ""), "residents": args.residents,
               "small": args.small, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    path = OUT / f"results-{db}.json"
    previous = json.loads(path.read_text()) if path.exists() else {}

    def step(name, fn):
        _log(f"-- {name}")
        t = time.perf_counter()
        try:
            value = fn()
        except Exception as e:  # report it and go on with the other measurements
            traceback.print_exc()
            value = {"error": f"{type(e).__name__}: {e}"}
        _log(f"   {name}: {json.dumps(value, ensure_ascii=False, default=str)[:600]} ({time.perf_counter() - t:.1f} s)")
        return value

    try:
        if "search" in only:
            small = ensure_city(db, "small", args.small, args)
            results["generate_small"] = small["generated"]
            results["read_once_small"] = step("read the small city once", b.read_database_once)
            users = b.bench_users()
            results["search_small"] = step("search at small scale", lambda: b.search_bench(users, small["sample"]))
        big = ensure_city(db, "big", args.residents, args)
        results["generate"] = big["generated"]
        results["machine"] = b.machine()
        users = b.bench_users()
        results["read_once"] = step("read the city once", b.read_database_once)
        if "search" in only:
            results["search"] = step("search at full scale", lambda: b.search_bench(users, big["sample"]))
        if "lookup" in only:
            results["lookup"] = step("ID lookup", lambda: b.id_lookup_bench(users, big["sample"]))
        if "export" in only:
            results["export"] = step("export", lambda: b.export_bench(users))
        if "import" in only:
            results["import"] = step("import", lambda: b.import_bench(
                users, rows=args.import_rows, runs=args.import_runs, iex_rows=args.iex_rows or None,
                skip_iex=args.skip_iex))
    finally:
        results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        results["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
        # Keep figures of earlier runs for what this run left out (the report says which run).
        if previous.get("residents") == args.residents:
            for key, value in previous.items():
                if key not in results and key != "kept_from_earlier_run":
                    results[key] = value
                    results.setdefault("kept_from_earlier_run", []).append(key)
        path.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    return 0
