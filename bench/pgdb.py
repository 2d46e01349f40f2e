"""The PostgreSQL plumbing the work-order and field-work benches share: their databases (create,
switch to, check), a fingerprint of the code that generated one (so `--reuse` keeps it only while
that code is unchanged), its size, and the child process a bench measures in."""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_HOST = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def db_url(name: str) -> str:
    return f"{PG_HOST}/{name}"


def use(name: str):
    """Point Django's connection at another database of the same server."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def reset(name: str):
    import psycopg
    from django.db import connection

    connection.close()
    with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')


def exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as c:
        return c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def code_key(files) -> str:
    """The migrations and the generator's files, hashed."""
    from django.db.migrations.loader import MigrationLoader

    h = hashlib.sha256()
    for key in sorted(MigrationLoader(None, ignore_no_migrations=True).disk_migrations):
        h.update(repr(key).encode())
    for f in files:
        p = ROOT / f
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def db_size() -> float:
    """The current database's size in MB."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT pg_database_size(current_database())")
        return round(c.fetchone()[0] / 1e6, 1)


def run_child(module: str, database: str, argv: list[str], out: Path) -> int:
    """Run `python -m <module> --child <argv>` against the database, with the settings a bench
    measures under (no debug, quiet logs, its own var folder)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "linli.settings", "DATABASE_URL": db_url(database),
           "LINLI_VAR_DIR": str(out / "var"), "LINLI_TESTING": "1", "DEBUG": "0", "LOG_LEVEL": "ERROR",
           "BENCH_COMMAND": f"python -m {module} " + " ".join(shlex.quote(a) for a in argv)}
    return subprocess.run([sys.executable, "-m", module, "--child", *argv], cwd=ROOT, env=env).returncode


def main(module: str, label: str, database: str, args, argv, child, results: Path, write_section, out: Path) -> int:
    """A PostgreSQL benchmark's entry point: as the child, run the benchmarks (`child(args)`);
    otherwise start that child against `database`, then write its section of bench/RESULTS.md
    from the results file it left."""
    import json
    import time

    out.mkdir(parents=True, exist_ok=True)
    if args.child:
        return child(args)
    argv = argv if argv is not None else sys.argv[1:]
    t = time.perf_counter()
    code = run_child(module, database, argv, out)
    print(f"== {label}: {time.perf_counter() - t:.0f} s, exit {code}", flush=True)
    if results.exists():
        print(f"Results: {write_section(json.loads(results.read_text()))}", flush=True)
    return code
