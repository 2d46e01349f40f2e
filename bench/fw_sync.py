"""python -m bench.fw_sync [--items 200] [--runs 5] [--households 200]

Times one phone syncing its offline queue: POST /api/fieldwork/sync with N visit items (each to
another household of the worker's grid, fresh keys each run) through the whole Django stack
(session, CSRF, JSON, the sync service, the visit service, due-list counting), then a replay of
the same request (every item answers "duplicate"). Target (issue 4): a 200-item queue < 3 s.

PostgreSQL (127.0.0.1:5432, user postgres, or `BENCH_PG`) in a database of its own,
linli_fw_sync, dropped and built afresh: the test world (registry/testing.py) plus N households in
grid1. Never the demo or test databases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time
import uuid

PG_HOST = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "linli_fw_sync"
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许"
GIVEN = ["建国", "秀英", "桂兰", "志强", "海燕", "明", "芳", "伟", "静", "磊", "洋"]


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.fw_sync", description=__doc__.split("\n\n")[0])
    p.add_argument("--items", type=int, default=200, help="visits in one queue (default 200)")
    p.add_argument("--runs", type=int, default=5, help="timed syncs (default 5)")
    p.add_argument("--households", type=int, default=200, help="extra households in grid1 (default 200)")
    return p.parse_args(argv)


def setup_db():
    import psycopg

    with psycopg.connect(f"{PG_HOST}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{DB}"')
    os.environ["DATABASE_URL"] = f"{PG_HOST}/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(n_households: int):
    from fieldwork.services import dues
    from registry import services as reg
    from registry.testing import add_person, build_world

    w = build_world()
    b = reg.create_building(None, grid=w.grid1, estate="压测小区", number="9", floors=30, units=4)
    households = []
    for i in range(n_households):
        house = reg.create_house(None, building=b, unit=i % 4 + 1, room=f"{i // 4 + 1:02d}{i % 4 + 1:02d}")
        hh = reg.create_household(None, house=house)
        add_person(hh, SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)], dt.date(1960, 1, 1) + dt.timedelta(days=i), "M" if i % 2 else "F", 1000 + i)
        households.append(hh)
    dues.recompute_all()
    return w, households


def queue(households, n, world):
    from django.utils import timezone

    when = (timezone.localtime() - dt.timedelta(hours=2)).isoformat(timespec="minutes")
    members = dict(
        __import__("registry.models", fromlist=["Resident"]).Resident.objects.filter(household__in=households).values_list("household_id", "id")
    )
    items = []
    for i in range(n):
        hh = households[i % len(households)]
        items.append(
            {
                "key": str(uuid.uuid4()),
                "kind": "visit",
                "payload": {
                    "household": str(hh.pk),
                    "visited_at": when,
                    "kind": "routine",
                    "met": [str(members[hh.pk])],
                    "met_note": "",
                    "nobody_home": False,
                    "notes": "身体不错，无新诉求",
                    "findings": "",
                    "lat": "31.305",
                    "lng": "120.605",
                },
            }
        )
    return items


def main(argv=None):
    args = parse(argv)
    setup_db()
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fieldwork.models import Visit

    t = time.perf_counter()
    world, households = build(args.households)
    print(f"built the world and {len(households)} households in {time.perf_counter() - t:.1f} s")
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.grid1_user)
    client.cookies["csrftoken"] = "k" * 32
    headers = {"X-CSRFToken": "k" * 32}

    def post(items):
        body = json.dumps({"items": items})
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as q:
            res = client.post("/api/fieldwork/sync", body, content_type="application/json", headers=headers)
        elapsed = time.perf_counter() - t0
        assert res.status_code == 200, res.content[:500]
        statuses = [r["status"] for r in res.json()["results"]]
        return elapsed, statuses, len(q.captured_queries), len(body)

    post(queue(households, 5, world))  # warm caches (rules, categories, roles)
    times, replays = [], []
    for run in range(args.runs):
        items = queue(households, args.items, world)
        before = Visit.objects.count()
        elapsed, statuses, queries, size = post(items)
        assert statuses == ["ok"] * args.items, set(statuses)
        assert Visit.objects.count() == before + args.items
        again, statuses2, queries2, _ = post(items)
        assert statuses2 == ["duplicate"] * args.items
        assert Visit.objects.count() == before + args.items
        times.append(elapsed)
        replays.append(again)
        print(f"run {run + 1}: {args.items} visits {elapsed:.2f} s ({queries} queries, {size / 1024:.0f} KB); replay {again:.3f} s ({queries2} queries)")
        reset_queries()
    print(
        f"sync of a {args.items}-visit queue: median {statistics.median(times):.2f} s, max {max(times):.2f} s "
        f"(target < 3 s: {'met' if max(times) < 3 else 'MISSED'}); replay median {statistics.median(replays):.3f} s"
    )
    connection.close()


if __name__ == "__main__":
    main()
