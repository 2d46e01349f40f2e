"""python -m bench [--db sqlite|postgres|both] [--residents N] [--only NAME] [--reuse]

Runs each database in its own process (its own settings), on databases of its own: SQLite files
under bench/out/ and PostgreSQL databases linli_bench (the big city) and linli_bench_small (the
10k baseline) at 127.0.0.1:5432, user postgres. Never the demo or test databases. Results go to
bench/out/results-<db>.json and bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_HOST = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
NAMES = ("generate", "search", "lookup", "export", "import")


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--residents", type=int, default=1_000_000, help="size of the big city (default 1,000,000)")
    p.add_argument("--small", type=int, default=10_000, help="size of the baseline city for page timings (default 10,000)")
    p.add_argument("--only", action="append", choices=NAMES, help="run only these benchmarks (repeatable)")
    p.add_argument("--reuse", action="store_true", help="keep a generated database of the same size and code")
    p.add_argument("--import-rows", type=int, default=100_000)
    p.add_argument("--import-runs", type=int, default=3,
                   help="times the raw baseline and the import are each run, alternating (medians reported)")
    p.add_argument("--iex-rows", type=int, default=0, help="rows given to django-import-export (default: all)")
    p.add_argument("--skip-iex", action="store_true", help="leave out django-import-export")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def db_url(db: str, scale: str) -> str:
    if db == "sqlite":
        return f"sqlite:///{OUT / f'bench-{scale}.sqlite3'}"
    return f"{PG_HOST}/linli_bench" + ("_small" if scale == "small" else "")


def main(argv=None):
    args = parse(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.child:
        from bench.run import child

        return child(args)
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    argv = argv if argv is not None else sys.argv[1:]
    code = 0
    for db in dbs:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "linli.settings", "DATABASE_URL": db_url(db, "big"),
               "LINLI_VAR_DIR": str(OUT / "var"), "LINLI_TESTING": "1", "DEBUG": "0", "LOG_LEVEL": "ERROR",
               "BENCH_COMMAND": "python -m bench " + " ".join(shlex.quote(a) for a in argv)}
        child_argv = [a for a in argv]
        if "--db" in child_argv:
            i = child_argv.index("--db")
            del child_argv[i:i + 2]
        print(f"== {db} ==", flush=True)
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "bench", "--child", "--db", db, *child_argv], cwd=ROOT, env=env)
        print(f"== {db}: {time.perf_counter() - t:.0f} s, exit {done.returncode}", flush=True)
        code = code or done.returncode
    from bench.report import write_report

    path = write_report()
    print(f"Results: {path}")
    return code


if __name__ == "__main__":
    sys.exit(main())
