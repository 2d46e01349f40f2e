"""python -m bench.fieldwork [--households N] [--workers N] [--only NAME]... [--reuse]

The field-work benchmarks of issue 4, on PostgreSQL (127.0.0.1:5432, user postgres, or
`BENCH_PG`) in databases of their own: linli_fw_bench (1,000,000 households, 20,000 grids and
grid workers by default) and linli_fw_small (10,000 households, 200 grids, the baseline of the
due-list page). Never the demo or test databases.

- generate:    build (or keep, with --reuse) both databases (bench/fw_generate.py).
- recompute:   dues.recompute_all() from scratch: every rule's current items of the whole city.
- due:         the grid worker's due list page /fieldwork/due/ (Django test client, one client,
               many different workers; dues.due_list() itself when the page does not exist yet).
- incremental: a care tag added to one household's member through registry.services.add_tag,
               which refreshes that household's due items (dues.refresh_household) in the same transaction.
- sync:        POST /api/fieldwork/sync with a 200-item offline queue (200 visits) from one
               phone, a logged-in grid worker, fresh keys each run; and one replay.

Results: bench/out/results-fieldwork.json and the "Field work" section of bench/RESULTS.md.
See bench/FIELDWORK.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import traceback
import uuid
from pathlib import Path

from bench import pgdb

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DB_BIG, DB_SMALL = "linli_fw_bench", "linli_fw_small"
NAMES = ("generate", "recompute", "due", "incremental", "sync")
RESULTS = OUT / "results-fieldwork.json"
SYNC_PATH = "/api/fieldwork/sync"


def parse(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.fieldwork", description=__doc__.split("\n\n")[0])
    p.add_argument("--households", type=int, default=1_000_000, help="households in the big city (default 1,000,000)")
    p.add_argument("--workers", type=int, default=20_000, help="grids (one grid worker each) in the big city (default 20,000)")
    p.add_argument("--small", type=int, default=10_000, help="households in the baseline city (default 10,000)")
    p.add_argument("--small-workers", type=int, default=200, help="grids in the baseline city (default 200)")
    p.add_argument("--only", action="append", choices=NAMES, help="run only these benchmarks (repeatable)")
    p.add_argument("--reuse", action="store_true", help="keep a generated database of the same size and code")
    p.add_argument("--repeats", type=int, default=200, help="timed due-list requests (each by another worker)")
    p.add_argument("--rounds", type=int, default=2, help="due-list rounds, the two cities in turn")
    p.add_argument("--recompute-runs", type=int, default=2, help="timed recompute_all() runs")
    p.add_argument("--changes", type=int, default=50, help="timed tag changes (incremental)")
    p.add_argument("--sync-runs", type=int, default=5, help="timed 200-item syncs")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _log(msg):
    print(msg, flush=True)


def main(argv=None):
    return pgdb.main("bench.fieldwork", "field work", DB_BIG, parse(argv), argv, child, RESULTS, write_section, OUT)


# ------------------------------------------------------------------ databases

def ensure_city(name: str, households: int, grids: int, args) -> dict:
    from django.core.management import call_command

    from bench import fw_generate

    state_path = OUT / f"fw-state-{name}.json"
    key = {"households": households, "grids": grids, "seed": args.seed, "code": pgdb.code_key(("bench/fw_generate.py",))}
    if args.reuse and state_path.exists() and pgdb.exists(name):
        state = json.loads(state_path.read_text())
        if state.get("key") == key:
            pgdb.use(name)
            _log(f"-- reusing {name} ({households:,} households, {grids:,} grids)")
            return state
    _log(f"-- building {name}: {households:,} households, {grids:,} grids")
    pgdb.reset(name)
    pgdb.use(name)
    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.perf_counter() - t
    counts = fw_generate.generate(households, grids, seed=args.seed, log=_log)
    counts["migrate_seconds"] = round(migrate_seconds, 1)
    counts["db_size_mb"] = pgdb.db_size()
    state = {"key": key, "generated": counts}
    state_path.write_text(json.dumps(state, ensure_ascii=False, default=str))
    _log(f"-- generated {name}: {json.dumps(counts, ensure_ascii=False)}")
    return state


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ------------------------------------------------------------------ measures

def summary(ms: list[float]) -> dict:
    from bench.benchmarks import summary as s

    return s(ms)


def _grid_workers() -> list:
    """(user, grid ids) of every grid worker of the bench city, in grid order."""
    from accounts.models import Role, RoleAssignment, User

    rows = list(RoleAssignment.objects.filter(role=Role.GRID_WORKER, user__username__startswith="fw_grid_")
                .order_by("region_path").values_list("user_id", "region_id"))
    users = User.objects.in_bulk([u for u, _g in rows])
    return [(users[u], [g]) for u, g in rows]


def recompute_bench(runs: int) -> dict:
    """recompute_all() on an emptied due-item table (the first build of a city), then `runs` - 1
    times over the items it made (the nightly or after-import recompute)."""
    from django.db import connection
    from django.utils import timezone

    from fieldwork.models import DueItem
    from fieldwork.services import dues

    table = DueItem._meta.db_table
    t = time.perf_counter()
    DueItem.objects.filter(period_end__gte=timezone.localdate()).delete()
    delete_s = time.perf_counter() - t
    with connection.cursor() as c:
        c.execute(f"VACUUM ANALYZE {table}" if connection.vendor == "postgresql" else "SELECT 1")
    out: dict = {"emptied_first_s": round(delete_s, 1)}
    times, n = [], 0
    for k in range(max(1, runs)):
        dues.forget()
        t = time.perf_counter()
        n = dues.recompute_all()
        times.append(time.perf_counter() - t)
        _log(f"   recompute_all ({'empty table' if k == 0 else 'over existing items'}): {n:,} items in {times[-1]:.1f} s "
             f"(load {_loadavg()})")
        with connection.cursor() as c:
            c.execute(f"ANALYZE {table}")
    out.update({"items": n, "from_empty_s": round(times[0], 2), "over_existing_s": [round(x, 2) for x in times[1:]],
                "runs_s": [round(x, 2) for x in times], "best_s": round(min(times), 2), "worst_s": round(max(times), 2),
                "load": _loadavg()})
    return out


def _due_url() -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("fieldwork:due")
    except NoReverseMatch:
        return None


def due_bench(repeats: int, seed: int) -> dict:
    """The due list of many different grid workers, one client at a time."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fieldwork.services import dues

    workers = _grid_workers()
    rng = random.Random(seed)
    chosen = rng.sample(workers, min(len(workers), repeats))
    url = _due_url()
    out: dict = {"through": f"GET {url} (Django test client)" if url else "dues.due_list(grid_ids) (no page yet)",
                 "workers": len(chosen)}
    if url:
        from bench.benchmarks import as_a_server

        as_a_server()
        clients = []
        for user, grids in chosen:
            c = Client()
            c.force_login(user)
            clients.append((c, grids))

        def call(k):
            r = clients[k][0].get(url)
            if r.status_code != 200:
                raise RuntimeError(f"{url} answered {r.status_code} for {chosen[k][0].username}")
            return r
    else:
        def call(k):
            return dues.due_list(chosen[k][1])

    for k in range(min(10, len(chosen))):  # warm-up (rule cache, connection, templates)
        call(k)
    times = []
    for k in range(len(chosen)):
        t = time.perf_counter()
        r = call(k)
        times.append((time.perf_counter() - t) * 1000)
    with CaptureQueriesContext(connection) as q:
        r = call(0)
    slowest = max(q.captured_queries, key=lambda x: float(x["time"]), default={"time": 0, "sql": ""})
    households = len(dues.due_list(chosen[0][1]))
    # the due list itself, separately (the share of the page that is the engine's)
    engine = []
    for k in range(len(chosen)):
        t = time.perf_counter()
        dues.due_list(chosen[k][1])
        engine.append((time.perf_counter() - t) * 1000)
    out.update(summary(times))
    out.update({"queries": len(q.captured_queries), "slowest_query_ms": round(float(slowest["time"]) * 1000, 2),
                "slowest_sql": slowest["sql"][:400], "bytes": len(r.content) if url else None, "households_shown": households,
                "engine": summary(engine), "load": _loadavg(), "times": times, "engine_times": engine})
    out["explain"] = _explain(chosen[0][1])
    return out


def _explain(grid_ids) -> str:
    from django.utils import timezone

    from fieldwork.models import DueItem

    today = timezone.localdate()
    qs = (DueItem.objects.filter(grid_id__in=list(grid_ids), period_end__gte=today, period_start__lte=today)
          .select_related("household__house__building", "household__head", "rule")
          .order_by("due_on", "-weight", "household_id"))
    try:
        return qs.explain(analyze=True, buffers=True)
    except Exception as e:  # SQLite has no ANALYZE option
        return f"({type(e).__name__}: {e})"


def incremental_bench(changes: int, seed: int) -> dict:
    """Add a care tag to a member of `changes` households (each in another grid) through the
    registry service; the due items follow in the same transaction. Then the tag is ended again (not timed)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from fieldwork.models import DueItem
    from fieldwork.services import dues
    from registry import services
    from registry.models import CareTag, Resident, ResidentTag

    rng = random.Random(seed + 1)
    tag = CareTag.objects.get(code="dibao")
    actor = User.objects.filter(username="fw_city").first()
    workers = _grid_workers()
    picks = rng.sample(workers, min(changes, len(workers)))
    residents = []
    for _user, grids in picks:
        r = (Resident.objects.filter(region_id=grids[0], status="active", relation="head")
             .exclude(tags__tag=tag, tags__end_date__isnull=True).order_by("id").first())
        if r is not None:
            residents.append(r)
    dues.refresh_household(residents[0].household_id)  # warm-up
    add, refresh_only, changed = [], [], 0
    for r in residents:
        before = DueItem.objects.filter(household_id=r.household_id, period_end__gte=dues.timezone.localdate()).count()
        t = time.perf_counter()
        services.add_tag(actor, r, tag)  # commits; the households_changed receiver refreshes the items
        add.append((time.perf_counter() - t) * 1000)
        after = DueItem.objects.filter(household_id=r.household_id, period_end__gte=dues.timezone.localdate()).count()
        changed += after > before
        t = time.perf_counter()
        dues.refresh_household(r.household_id)
        refresh_only.append((time.perf_counter() - t) * 1000)
    with CaptureQueriesContext(connection) as q:
        dues.refresh_household(residents[0].household_id)
    refresh_queries = len(q.captured_queries)
    services.end_tag(actor, residents[0], tag)
    with CaptureQueriesContext(connection) as q:
        services.add_tag(actor, residents[0], tag)
    add_queries = len(q.captured_queries)
    reset_queries()
    for r in residents:
        services.end_tag(actor, r, tag)
    left = ResidentTag.objects.filter(resident__in=residents, tag=tag, end_date__isnull=True).count()
    return {"changes": len(residents), "households_with_new_items": changed, "add_tag": summary(add),
            "refresh_household": summary(refresh_only), "refresh_queries": refresh_queries,
            "add_tag_queries": add_queries, "tags_left_open": left,
            "load": _loadavg()}


def sync_bench(runs: int, seed: int) -> dict:
    """A 200-visit offline queue from one phone: POST /api/fieldwork/sync, fresh keys per run
    (each run by another worker, so the households are other ones), then one replay."""
    from django.test import Client
    from django.utils import timezone

    from fieldwork.models import SyncReceipt, Visit
    from registry.models import Household

    rng = random.Random(seed + 2)
    workers = _grid_workers()
    picks = rng.sample(workers, min(runs + 1, len(workers)))
    probe = Client()
    probe.force_login(picks[0][0])
    r = probe.post(SYNC_PATH, data={"items": []}, content_type="application/json")
    if r.status_code in (404, 405):
        return {"skipped": f"{SYNC_PATH} answers {r.status_code}: the sync endpoint does not exist yet"}
    times, statuses, made = [], {}, 0
    last_body = None
    for user, grids in picks[1:]:
        homes = list(Household.objects.filter(region_id=grids[0], dissolved_on__isnull=True).values_list("id", flat=True))
        now = timezone.now()
        items = []
        for k in range(200):
            at = now - timezone.timedelta(minutes=5 + k)
            items.append({"key": str(uuid.uuid4()), "kind": "visit", "payload": {
                "household": homes[k % len(homes)], "visited_at": timezone.localtime(at).isoformat(timespec="seconds"),
                "kind": "routine", "met": [], "met_note": "", "nobody_home": False, "notes": "离线走访记录",
                "findings": "", "lat": None, "lng": None}})
        c = Client()
        c.force_login(user)
        before = Visit.objects.filter(worker=user).count()
        t = time.perf_counter()
        r = c.post(SYNC_PATH, data={"items": items}, content_type="application/json")
        times.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            return {"error": f"{SYNC_PATH} answered {r.status_code}: {r.content[:300]!r}"}
        for res in r.json().get("results", []):
            statuses[res.get("status")] = statuses.get(res.get("status"), 0) + 1
        made += Visit.objects.filter(worker=user).count() - before
        last_body, last_client, last_user = items, c, user
        _log(f"   sync of 200: {times[-1]:.0f} ms, statuses so far {statuses}")
    # the same queue again (a phone that did not hear the answer): nothing new
    before = Visit.objects.filter(worker=last_user).count()
    t = time.perf_counter()
    r = last_client.post(SYNC_PATH, data={"items": last_body}, content_type="application/json")
    replay_ms = (time.perf_counter() - t) * 1000
    replay = {}
    for res in r.json().get("results", []):
        replay[res.get("status")] = replay.get(res.get("status"), 0) + 1
    return {"items_per_run": 200, **summary(times), "statuses": statuses, "visits_created": made,
            "replay_ms": round(replay_ms, 1), "replay_statuses": replay,
            "replay_new_visits": Visit.objects.filter(worker=last_user).count() - before,
            "receipts": SyncReceipt.objects.count(), "load": _loadavg()}


# ------------------------------------------------------------------ the run

def child(args):
    import django

    django.setup()
    from bench.benchmarks import machine

    only = set(args.only or NAMES)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    results: dict = {"started": started, "command": os.environ.get("BENCH_COMMAND", ""), "machine": {},
                     "households": args.households, "grids": args.workers, "small": args.small,
                     "small_grids": args.small_workers, "load_start": _loadavg(), "big": {}, "baseline": {}}
    if RESULTS.exists():  # keep figures of steps not run this time
        old = json.loads(RESULTS.read_text())
        if old.get("households") == args.households and old.get("small") == args.small:
            for k in ("big", "baseline"):
                results[k] = old.get(k, {})

    def step(where, name, fn):
        _log(f"-- {name} ({where})")
        t = time.perf_counter()
        try:
            value = fn()
        except Exception as e:  # the benchmark reports it and goes on
            traceback.print_exc()
            value = {"error": f"{type(e).__name__}: {e}"}
        if isinstance(value, dict):
            value["at"] = time.strftime("%H:%M")
        results[where][name] = value
        shown = {k: v for k, v in value.items() if k != "explain"} if isinstance(value, dict) else value
        _log(f"   {name}: {json.dumps(shown, ensure_ascii=False, default=str)[:1500]} ({time.perf_counter() - t:.1f} s)")
        results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        results["load_end"] = _loadavg()
        RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))

    for where, db, hh, grids in (("baseline", DB_SMALL, args.small, args.small_workers),
                                 ("big", DB_BIG, args.households, args.workers)):
        state = ensure_city(db, hh, grids, args)
        results[where]["generated"] = state["generated"]
        if not results["machine"]:
            results["machine"] = machine()
        from fieldwork.models import DueItem

        if "recompute" in only or not DueItem.objects.exists():
            runs = args.recompute_runs if where == "big" else 1
            step(where, "recompute", lambda runs=runs: recompute_bench(runs))
        if where == "big" and "incremental" in only:
            step(where, "incremental", lambda: incremental_bench(args.changes, args.seed))
        if where == "big" and "sync" in only:
            step(where, "sync", lambda: sync_bench(args.sync_runs, args.seed))
    if "due" in only:
        # The two cities in turn, `--rounds` times, so that the load of a shared machine falls on
        # both alike; each city's figures pool its rounds.
        rounds: dict = {"baseline": [], "big": []}
        for k in range(args.rounds):
            for where, db in (("baseline", DB_SMALL), ("big", DB_BIG)):
                pgdb.use(db)
                from fieldwork.services import dues

                dues.forget()
                _log(f"-- due ({where}, round {k + 1} of {args.rounds})")
                t = time.perf_counter()
                try:
                    value = due_bench(args.repeats, args.seed)
                except Exception as e:
                    traceback.print_exc()
                    value = {"error": f"{type(e).__name__}: {e}"}
                rounds[where].append(value)
                _log(f"   p50 {value.get('p50_ms')} ms, p95 {value.get('p95_ms')} ms, engine {value.get('engine')} "
                     f"(load {_loadavg()}, {time.perf_counter() - t:.1f} s)")
        for where, values in rounds.items():
            ok = [v for v in values if "times" in v]
            if not ok:
                results[where]["due"] = values[-1] if values else {}
                continue
            merged = dict(ok[-1])
            merged.update(summary([x for v in ok for x in v["times"]]))
            merged["engine"] = summary([x for v in ok for x in v["engine_times"]])
            merged["rounds"] = [{"p50_ms": v["p50_ms"], "p95_ms": v["p95_ms"], "load": v["load"]} for v in ok]
            for v in (merged,):
                v.pop("times", None)
                v.pop("engine_times", None)
            merged["at"] = time.strftime("%H:%M")
            results[where]["due"] = merged
        results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
        results["load_end"] = _loadavg()
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    return 0


# ------------------------------------------------------------------ RESULTS.md

def _f(v, unit="", digits=1):
    if v is None:
        return "—"
    return f"{v:,.{digits}f}{unit}" if isinstance(v, (int, float)) else str(v)


def _ok(cond):
    return "met" if cond else "**missed**"


def _when(v: dict) -> str:
    load = v.get("load") or ((v.get("rounds") or [{}])[-1].get("load"))
    return f"; at {v['at']}, load {load[0]}" if v.get("at") and load else ""


def section(r: dict) -> list[str]:
    big, base = r.get("big", {}), r.get("baseline", {})
    g = big.get("generated", {})
    gs = base.get("generated", {})
    m = r.get("machine", {})
    lines = ["## Field work", "",
             f"Run {r.get('started')} – {r.get('finished')}; command `{r.get('command')}`. "
             f"PostgreSQL{(' ' + m['postgresql']) if m.get('postgresql') else ''}, {m.get('cores', 2)} cores shared with other "
             f"work: load average {r.get('load_start')} at the start, {r.get('load_end')} at the end. Method: bench/FIELDWORK.md.", "",
             "| measure | result | baseline (same run) | target | verdict |", "|---|---|---|---|---|"]
    if g:
        lines.append(f"| generate {g.get('households', 0):,} households ({g.get('residents', 0):,} residents, {g.get('tags', 0):,} tags, "
                     f"{g.get('grids', 0):,} grids and grid workers, {g.get('visits', 0):,} visits this quarter) | "
                     f"{_f(g.get('total_seconds'), ' s')}; database {_f(g.get('db_size_mb'), ' MB', 0)} | "
                     f"{gs.get('households', 0):,} households: {_f(gs.get('total_seconds'), ' s')} | minutes | — |")
    rc = big.get("recompute", {})
    if rc.get("error"):
        lines.append(f"| recompute everyone's due lists | error: {rc['error']} | | < 60 s | **missed** |")
    elif rc:
        brc = base.get("recompute", {})
        lines.append(f"| recompute everyone's due lists from an empty table (`dues.recompute_all`, {rc['items']:,} items) | "
                     f"{_f(rc.get('from_empty_s'), ' s')}{_when(rc)} | {_f(brc.get('from_empty_s'), ' s', 2)} at {r.get('small', 0):,} households "
                     f"| < 60 s | {_ok((rc.get('from_empty_s') or 1e9) < 60)} |")
        if rc.get("over_existing_s"):
            worst = max(rc["over_existing_s"])
            lines.append(f"| recompute everyone's due lists over the existing items (the nightly or after-import run) | "
                         f"{', '.join(_f(x, ' s') for x in rc['over_existing_s'])} | — | < 60 s | {_ok(worst < 60)} |")
    d, bd = big.get("due", {}), base.get("due", {})
    if d.get("error"):
        lines.append(f"| due list | error: {d['error']} | | < 50 ms | **missed** |")
    elif d:
        ratio = d["p95_ms"] / bd["p95_ms"] if bd.get("p95_ms") else None
        lines.append(f"| due list, p95 of {d['n']} requests by {d['workers']} workers in {len(d.get('rounds', [])) or 1} rounds ({d['through']}, {d['queries']} queries, "
                     f"{d.get('households_shown')} households on the page) | {_f(d['p95_ms'], ' ms')} (p50 {_f(d['p50_ms'], ' ms')}){_when(d)} | "
                     f"{_f(bd.get('p95_ms'), ' ms')} at {r.get('small', 0):,} (×{_f(ratio, '', 2)}) | < 50 ms and ≤ 1.5× | "
                     f"{_ok(d['p95_ms'] < 50 and ratio is not None and ratio <= 1.5)} |")
        e, be = d.get("engine", {}), bd.get("engine", {})
        lines.append(f"| (of which `dues.due_list()` alone) | p95 {_f(e.get('p95_ms'), ' ms')} (p50 {_f(e.get('p50_ms'), ' ms')}) | "
                     f"p95 {_f(be.get('p95_ms'), ' ms')} | — | — |")
    inc = big.get("incremental", {})
    if inc.get("error"):
        lines.append(f"| incremental update | error: {inc['error']} | | < 20 ms | **missed** |")
    elif inc:
        a, rf = inc["add_tag"], inc["refresh_household"]
        lines.append(f"| one household's tags change: `registry.services.add_tag` incl. the due-list refresh in the same transaction, p95 over "
                     f"{inc['changes']} households | {_f(a['p95_ms'], ' ms')} (p50 {_f(a['p50_ms'], ' ms')}){_when(inc)} | "
                     f"`dues.refresh_household` alone: p95 {_f(rf['p95_ms'], ' ms')} (p50 {_f(rf['p50_ms'], ' ms')}), "
                     f"{inc['refresh_queries']} queries; add_tag with it {inc.get('add_tag_queries', '?')} queries | < 20 ms | "
                     f"{_ok(a['p95_ms'] < 20)} (refresh alone {_ok(rf['p95_ms'] < 20).replace('**', '')}) |")
    s = big.get("sync", {})
    if s.get("skipped") or s.get("error"):
        lines.append(f"| sync a 200-item offline queue | {s.get('skipped') or s.get('error')} | | < 3 s | not measured |")
    elif s:
        lines.append(f"| sync a 200-item offline queue (200 visits, `POST {SYNC_PATH}`, p95 of {s['n']} runs) | "
                     f"{_f(s['p95_ms'] / 1000, ' s', 2)} (p50 {_f(s['p50_ms'] / 1000, ' s', 2)}; {s['visits_created']} visits made, "
                     f"statuses {s['statuses']}){_when(s)} | replay of the same 200: {_f(s['replay_ms'] / 1000, ' s', 2)}, "
                     f"{s['replay_new_visits']} new visits ({s['replay_statuses']}) | < 3 s | {_ok(s['p95_ms'] < 3000)} |")
    if d.get("explain"):
        lines += ["", f"EXPLAIN (ANALYZE, BUFFERS) of the due-list query at {r.get('households', 0):,} households (one worker's grid):", "",
                  "```", *d["explain"].splitlines(), "```"]
    return lines + [""]


def write_section(r: dict) -> Path:
    """Put the "Field work" section into bench/RESULTS.md (in place of an earlier one; the other
    sections stay)."""
    from .report import put_section

    path = ROOT / "bench" / "RESULTS.md"
    lines = section(r)
    put_section(path, lines[0].removeprefix("## "), lines[1:])
    return path


if __name__ == "__main__":
    sys.exit(main())
