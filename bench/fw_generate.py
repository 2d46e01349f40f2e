"""A city for the field-work benchmarks, written straight into PostgreSQL (or SQLite, slowly).

Sizes: `households` households spread evenly over `grids` grids (about 50 each at 1,000,000 /
20,000), one grid worker per grid (a User with a grid_worker RoleAssignment).

- Tree: Regions with correct materialised paths (treebeard's own path function, `numchild`,
  `depth` = level), 12-digit codes, rectangular boundaries (registry.demo.layout) and their
  bounding boxes, as regions.services.create_region writes them; 10 grids per community, 20
  communities per street, 10 streets per district.
- Registry: every household has a house in a building of its grid (10 households a building),
  1–4 living members with a head, unique ID numbers (valid check digit; AES-GCM ciphertext, blind
  index and mask as the registry writes them, computed in a process pool), the head's phone, a
  membership row and a `registered` event per member, derived age tags (elderly, elderly80,
  child) and care tags: ~8% of households with a 低保/特困/重残 member, ~10% with empty-nest or
  living-alone elders, ~1% with a key person. Every tag row carries the resident's path.
- Visits of the current quarter: ~60% of households once, ~20% twice, by their grid's worker,
  region/region_path = the household's grid (INSERT ... SELECT).
- Due items are NOT written here: building them is the recompute benchmark (dues.recompute_all).

Ids of buildings, houses, households and residents are allocated up front (residents get
4 slots per household, so the head's id is known before the row is written); the rest come
from the sequences. Rows go in with COPY, one transaction per chunk of grids.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import random
import time
from dataclasses import dataclass

from django.db import connection, connections, transaction
from django.utils import timezone

from bench.generate import Table, _next_id, reset_sequences

GRIDS_PER_COMMUNITY = 10
COMMUNITIES_PER_STREET = 20
STREETS_PER_DISTRICT = 10
HOUSEHOLDS_PER_BUILDING = 10
SLOTS = 4  # resident ids per household
PASSWORD = "linli-demo"
CHUNK_GRIDS = 400

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "建华", "国强", "文", "华", "红", "玉兰", "志强", "海燕", "小明", "子涵", "梓轩",
         "欣怡", "浩然", "雨桐", "晨", "佳怡", "俊杰", "思远"]
ESTATES = ["金桥苑", "枫林湾", "新港花园", "翠竹园", "香樟苑", "东湖小区", "锦绣家园", "阳光新村", "书香府邸", "运河人家"]
HARDSHIP = [("dibao", 60), ("tekun", 15), ("severe_disabled", 25)]
KEY_TAGS = ["correction", "released", "drug", "mental", "petitioner"]


@dataclass
class FwTree:
    city: object
    districts: list
    streets: list
    communities: list
    grids: list


def plan(grids: int) -> tuple[int, int, int]:
    communities = -(-grids // GRIDS_PER_COMMUNITY)
    streets = -(-communities // COMMUNITIES_PER_STREET)
    districts = -(-streets // STREETS_PER_DISTRICT)
    return districts, streets, communities


def build_tree(grids: int) -> FwTree:
    """The tree with correct treebeard paths, inserted with bulk_create (a few thousand rows)."""
    from regions.models import Level, Region
    from regions.services import _apply_boundary
    from registry.demo import GRID_NAMES, layout

    n_d, n_s, n_c = plan(grids)
    since = dt.date(2000, 1, 1)
    counts = [min(GRIDS_PER_COMMUNITY, grids - i * GRIDS_PER_COMMUNITY) for i in range(n_c)]
    shapes = layout(counts, block_w=0.012, block_h=0.006)
    rows: list = []

    def node(parent, pos, level, code, name, boundary=None):
        r = Region(level=level, code=code, name=name, valid_from=since, depth=level, numchild=0,
                   path=Region._get_path(parent.path if parent else None, level, pos))
        _apply_boundary(r, boundary)
        if parent is not None:
            parent.numchild += 1
        rows.append(r)
        return r

    city = node(None, 1, Level.CITY, "329900000000", "基准市")
    tree = FwTree(city, [], [], [], [])
    c_index = 0
    for d in range(n_d):
        district = node(city, d + 1, Level.DISTRICT, f"3299{d + 1:02d}000000", f"第{d + 1}区")
        tree.districts.append(district)
        for s in range(min(STREETS_PER_DISTRICT, n_s - d * STREETS_PER_DISTRICT)):
            street = node(district, s + 1, Level.STREET, f"{district.code[:6]}{s + 1:03d}000", f"{district.name}第{s + 1}街道")
            tree.streets.append(street)
            for c in range(min(COMMUNITIES_PER_STREET, n_c - c_index)):
                cshape, gshapes = shapes[c_index]
                community = node(street, c + 1, Level.COMMUNITY, f"{street.code[:9]}{c + 1:03d}", f"第{c_index + 1}社区", cshape)
                tree.communities.append(community)
                for g in range(counts[c_index]):
                    tree.grids.append(node(community, g + 1, Level.GRID, f"{community.code}{g + 1:03d}", GRID_NAMES[g % 10], gshapes[g]))
                c_index += 1
    Region.objects.bulk_create(rows, batch_size=5000)
    by_code = dict(Region.objects.filter(code__startswith="3299").values_list("code", "id"))
    for r in rows:
        r.pk = r.id = by_code[r.code]
    return tree


def make_workers(tree: FwTree) -> dict:
    """A grid worker per grid (fw_grid_00001...), plus a city administrator (fw_city) and a
    community worker per community (fw_community_0001...). Returns {grid id: user id}."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, RoleAssignment, User

    hashed = make_password(PASSWORD)
    plan_ = [("fw_city", "市级管理员", Role.CITY_ADMIN, tree.city)]
    plan_ += [(f"fw_community_{i:04d}", f"{c.name}社工", Role.COMMUNITY_WORKER, c) for i, c in enumerate(tree.communities, 1)]
    plan_ += [(f"fw_grid_{i:05d}", f"网格员{i:05d}", Role.GRID_WORKER, g) for i, g in enumerate(tree.grids, 1)]
    users = User.objects.bulk_create([User(username=u, display_name=n, password=hashed) for u, n, *_ in plan_], batch_size=5000)
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user=u, role=role, region=region, region_path=region.path) for u, (_u, _n, role, region) in zip(users, plan_, strict=True)],
        batch_size=5000,
    )
    return {region.pk: u.pk for u, (_u, _n, role, region) in zip(users, plan_, strict=True) if role == Role.GRID_WORKER}


# ------------------------------------------------------------------ people (forked workers)

_names: dict = {}


def _pinyin(name: str, surname: str) -> tuple[str, str]:
    got = _names.get(name)
    if got is None:
        from registry.services.pinyin import name_pinyin

        got = _names[name] = name_pinyin(name)
    return got


def _chunk(task):
    """Rows of a run of grids, with final ids. Runs in a worker process (no database)."""
    from linli import pii
    from registry.models import Resident
    from registry.services import idnumber

    ci, grids, hh_counts, first_hh, b0, h0, hh0, r0, seed, today, now, tag_ids, age_tags = task
    rng = random.Random(seed)
    # Each chunk registers its people under an address code of its own; inside the chunk the
    # sequence number runs per (birth date, gender): ID numbers are unique by construction.
    address6 = f"3205{ci:02d}"
    seqs: dict = {}
    enc_id, enc_phone = pii.encryptor(Resident.AAD_ID), pii.encryptor(Resident.AAD_PHONE)
    bidx_id, bidx_phone = pii.blind_indexer("id_number"), pii.blind_indexer("phone")
    B, H, HH, R, T = [], [], [], [], []
    i = first_hh  # global household index
    for (gid, path), n in zip(grids, hh_counts, strict=True):
        for k in range(n):
            if k % HOUSEHOLDS_PER_BUILDING == 0:
                bid = b0 + i // HOUSEHOLDS_PER_BUILDING
                estate = ESTATES[(gid + k // 100) % len(ESTATES)]
                B.append((bid, gid, path, estate, f"{k // HOUSEHOLDS_PER_BUILDING + 1}幢", f"{estate}{k // HOUSEHOLDS_PER_BUILDING + 1}幢", 6, 2))
            bid = b0 + i // HOUSEHOLDS_PER_BUILDING
            slot = k % HOUSEHOLDS_PER_BUILDING
            unit, floor = 1 + slot // 5, 1 + slot % 5
            H.append((h0 + i, gid, path, bid, unit, f"{floor}0{unit}", floor, "owner", f"{rng.uniform(45, 140):.2f}"))
            hid = hh0 + i
            rid = r0 + SLOTS * i
            u = rng.random()
            empty_nest = u < 0.10
            hardship = 0.10 <= u < 0.18
            key = rng.random() < 0.01
            if empty_nest:
                ages = [rng.randint(65, 92)] * (1 if rng.random() < 0.4 else 2)
                ages = [rng.randint(65, 92) for _ in ages]
            else:
                m = rng.choices([1, 2, 3, 4], weights=[25, 35, 25, 15])[0]
                head_age = rng.randint(24, 85)
                ages = [head_age] + [max(0, min(95, head_age + rng.choice([-2, 0, 3, -28, -30, 27]) + rng.randint(-3, 3)))
                                     for _ in range(m - 1)]
            HH.append((hid, gid, path, h0 + i, "", rid, now))
            surname = rng.choice(SURNAMES)
            for j, age in enumerate(ages):
                gender = "M" if (j == 0) == (rng.random() < 0.6) else "F"
                birth = today - dt.timedelta(days=int(age * 365.25) + rng.randint(0, 360))
                seq = seqs[(birth, gender)] = seqs.get((birth, gender), 0) + 1
                number = idnumber.make(address6, birth, gender, seq)
                name = (surname if j == 0 or rng.random() < 0.5 else rng.choice(SURNAMES)) + rng.choice(GIVEN)
                py, ini = _pinyin(name, surname)
                phone = f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}" if j == 0 else ""
                relation = "head" if j == 0 else ("spouse" if j == 1 and abs(age - ages[0]) < 10 else "child" if age < ages[0] else "parent")
                R.append((rid + j, gid, path, name, py, ini, gender, birth, enc_id(number), bidx_id(number), pii.mask_id_number(number),
                          enc_phone(phone), bidx_phone(phone) if phone else "", pii.mask_phone(phone) if phone else "",
                          "汉族", "registered", "masses", hid, relation, "active", now - dt.timedelta(days=rng.randint(30, 3000))))
                for tid, lo, hi in age_tags:
                    if (lo is None or age >= lo) and (hi is None or age <= hi):
                        T.append((rid + j, tid, today, path))
                if empty_nest:
                    T.append((rid + j, tag_ids["living_alone" if len(ages) == 1 else "empty_nest"], today - dt.timedelta(days=200), path))
            if hardship:
                code = rng.choices([c for c, _w in HARDSHIP], weights=[w for _c, w in HARDSHIP])[0]
                T.append((rid, tag_ids[code], today - dt.timedelta(days=400), path))
            if key:
                T.append((rid + len(ages) - 1, tag_ids[rng.choice(KEY_TAGS)], today - dt.timedelta(days=300), path))
            i += 1
    return B, H, HH, R, T


def _table(model, columns):
    """generate.Table, leaving `id` to the sequence when it is not given."""
    t = Table(model, columns)
    if "id" not in columns:
        k = t.columns.index("id")
        del t.columns[k]
        del t.order[k]
    return t


def generate(households: int, grids: int, *, seed: int = 1, workers: int = 2, log=print) -> dict:
    from fieldwork.models import Visit
    from registry.models import Building, CareTag, House, Household, HouseholdMembership, Resident, ResidentEvent, ResidentTag

    t0 = time.perf_counter()
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        tree = build_tree(grids)
        worker_of = make_workers(tree)
    tree_seconds = time.perf_counter() - t0
    log(f"  tree and {len(worker_of):,} grid workers in {tree_seconds:.1f} s: {len(tree.grids):,} grids, "
        f"{len(tree.communities):,} communities, {len(tree.streets)} streets, {len(tree.districts)} districts")

    tags = {t.code: t for t in CareTag.objects.all()}
    tag_ids = {c: t.id for c, t in tags.items()}
    age_tags = [(t.id, t.min_age, t.max_age) for t in tags.values() if t.min_age is not None or t.max_age is not None]
    b0, h0, hh0, r0 = _next_id(Building), _next_id(House), _next_id(Household), _next_id(Resident)
    per = [households // grids + (1 if i < households % grids else 0) for i in range(grids)]
    tasks, first = [], 0
    for ci, c in enumerate(range(0, grids, CHUNK_GRIDS)):
        if ci >= 100:
            raise ValueError("at most 100 chunks of grids (one ID-number address code each)")
        gl = [(g.pk, g.path) for g in tree.grids[c:c + CHUNK_GRIDS]]
        counts = per[c:c + CHUNK_GRIDS]
        tasks.append((ci, gl, counts, first, b0, h0, hh0, r0, seed * 100_003 + c, today, now, tag_ids, age_tags))
        first += sum(counts)

    t_b = _table(Building, ["id", "region_id", "region_path", "estate", "number", "address", "floors", "units"])
    t_h = _table(House, ["id", "region_id", "region_path", "building_id", "unit", "room", "floor", "use", "area"])
    t_hh = _table(Household, ["id", "region_id", "region_path", "house_id", "number", "head_id", "created_at"])
    t_r = _table(Resident, ["id", "region_id", "region_path", "name", "pinyin", "initials", "gender", "birth_date", "id_number_enc",
                            "id_number_bidx", "id_number_masked", "phone_enc", "phone_bidx", "phone_masked", "ethnicity",
                            "residence_type", "political_status", "household_id", "relation", "status", "created_at", "updated_at"])
    t_t = _table(ResidentTag, ["resident_id", "tag_id", "start_date", "region_path"])
    totals = dict(buildings=0, houses=0, households=0, residents=0, tags=0)
    connections.close_all()
    started = time.perf_counter()
    with mp.get_context("fork").Pool(workers) as pool:
        for B, H, HH, R, T in pool.imap(_chunk, tasks):
            R = [(*r, now) for r in R]
            with transaction.atomic():
                t_b.insert(B)
                t_h.insert(H)
                t_hh.insert(HH)
                t_r.insert(R)
                t_t.insert(T)
            for key, rows in (("buildings", B), ("houses", H), ("households", HH), ("residents", R), ("tags", T)):
                totals[key] += len(rows)
            log(f"  {totals['households']:>9,} households, {totals['residents']:,} residents "
                f"({totals['households'] / (time.perf_counter() - started):,.0f} households/s)")
    reset_sequences([Building, House, Household, Resident])
    registry_seconds = time.perf_counter() - started

    # Memberships and `registered` events, one INSERT ... SELECT each.
    t = time.perf_counter()
    with connection.cursor() as c:
        c.execute(f"INSERT INTO {HouseholdMembership._meta.db_table} (household_id, resident_id, relation, start_date) "
                  f"SELECT household_id, id, relation, created_at::date FROM {Resident._meta.db_table} WHERE id >= %s", [r0])
        c.execute(f"INSERT INTO {ResidentEvent._meta.db_table} (resident_id, kind, date, to_household_id, note, created_at) "
                  f"SELECT id, 'registered', created_at::date, household_id, '', created_at FROM {Resident._meta.db_table} "
                  "WHERE id >= %s", [r0])
    links_seconds = time.perf_counter() - t
    log(f"  memberships and events in {links_seconds:.1f} s")

    t = time.perf_counter()
    visits = make_visits(worker_of, today, seed=seed, since_id=hh0)
    visits_seconds = time.perf_counter() - t
    log(f"  {visits:,} visits of this quarter in {visits_seconds:.1f} s")
    reset_sequences([Visit])
    t = time.perf_counter()
    with connection.cursor() as c:
        c.execute("ANALYZE")
    return {**totals, "grids": len(tree.grids), "workers": len(worker_of), "visits": visits,
            "tree_seconds": round(tree_seconds, 1), "registry_seconds": round(registry_seconds, 1),
            "links_seconds": round(links_seconds, 1), "visits_seconds": round(visits_seconds, 1),
            "analyze_seconds": round(time.perf_counter() - t, 1), "total_seconds": round(time.perf_counter() - t0, 1)}


def make_visits(worker_of: dict, today: dt.date, *, seed: int = 1, since_id: int = 1) -> int:
    """This quarter's visits: ~60% of households once, ~20% twice, at random moments between the
    quarter's first day and now, by the grid's worker."""
    from fieldwork.models import Period, Visit
    from fieldwork.services.dues import _local_midnight, period_bounds

    start = _local_midnight(period_bounds(Period.QUARTER, today)[0])
    now = timezone.now()
    pg = connection.vendor == "postgresql"
    with connection.cursor() as c:
        c.execute("CREATE TEMP TABLE fw_worker (grid_id bigint PRIMARY KEY, user_id bigint)")
        c.executemany("INSERT INTO fw_worker VALUES (%s, %s)", list(worker_of.items()))
        if pg:
            c.execute("SELECT setseed(%s)", [((seed * 7919) % 1000) / 1000])
            c.execute(
                f"INSERT INTO {Visit._meta.db_table} (region_id, region_path, household_id, worker_id, visited_at, kind, met_note, "
                "nobody_home, notes, findings, client_key, created_at) "
                "SELECT h.region_id, h.region_path, h.id, w.user_id, %s + (%s - %s) * random(), 'routine', '', random() < 0.05, "
                "'入户走访，了解家庭近况', '', '', %s "
                "FROM (SELECT id, region_id, region_path, random() AS u FROM registry_household WHERE id >= %s) h "
                "JOIN fw_worker w ON w.grid_id = h.region_id "
                "CROSS JOIN LATERAL generate_series(1, CASE WHEN h.u < 0.2 THEN 2 WHEN h.u < 0.8 THEN 1 ELSE 0 END) n "
                "ORDER BY 5",
                [start, now, start, now, since_id],
            )
            n = c.rowcount
        else:
            rng = random.Random(seed)
            c.execute("SELECT h.id, h.region_id, h.region_path, w.user_id FROM registry_household h "
                      "JOIN fw_worker w ON w.grid_id = h.region_id WHERE h.id >= %s", [since_id])
            rows = []
            span = (now - start).total_seconds()
            for hid, gid, path, uid in c.fetchall():
                u = rng.random()
                for _ in range(2 if u < 0.2 else 1 if u < 0.8 else 0):
                    at = start + dt.timedelta(seconds=rng.random() * span)
                    rows.append((gid, path, hid, uid, at, "routine", "", False, "入户走访，了解家庭近况", "", "", now))
            c.executemany(
                f"INSERT INTO {Visit._meta.db_table} (region_id, region_path, household_id, worker_id, visited_at, kind, met_note, "
                "nobody_home, notes, findings, client_key, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
            n = len(rows)
        c.execute("DROP TABLE fw_worker")
    return n
