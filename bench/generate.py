"""A synthetic city at any scale, written straight into the database.

The tree goes through the region services (a few hundred nodes); everything below it is made by
`registry.demo.Synthesizer` in a process pool (one grid per task: people, ID numbers, phones,
pinyin, AES-GCM ciphertexts and blind indexes all computed in the workers) and written by the
main process with ids allocated up front: `executemany` on SQLite, `COPY` on PostgreSQL. The rows
are those the services would write (region_path on every row, heads, memberships, `registered`
events, care tags with the resident's path).
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing as mp
import random
import time
from dataclasses import dataclass

from django.db import connection, connections, transaction
from django.utils import timezone

RESIDENTS_PER_GRID = 2500
GRIDS_PER_COMMUNITY = 4
COMMUNITIES_PER_STREET = 10
STREETS_PER_DISTRICT = 5

SYLLABLES = ["平江", "双塔", "金阊", "沧浪", "虎丘", "狮山", "横塘", "枫桥", "浒墅", "通安", "东渚", "镇湖", "娄葑",
             "斜塘", "唯亭", "胜浦", "越溪", "横泾", "甪直", "木渎", "胥口", "光福", "临湖", "香山", "长桥", "城南",
             "郭巷", "太湖", "元和", "黄桥", "北桥", "渭塘", "望亭", "黄埭", "阳澄", "漕湖", "莲花", "湖东", "湖西",
             "桃花", "钟楼", "彩香", "三元", "友新", "吴门", "葑门", "娄门", "齐门", "阊门", "盘门"]


@dataclass
class Tree:
    city: object
    districts: list
    streets: list
    communities: list
    grids: list


def plan_counts(residents: int) -> tuple[int, int, int, int]:
    grids = max(1, math.ceil(residents / RESIDENTS_PER_GRID))
    communities = math.ceil(grids / GRIDS_PER_COMMUNITY)
    streets = math.ceil(communities / COMMUNITIES_PER_STREET)
    districts = math.ceil(streets / STREETS_PER_DISTRICT)
    return districts, streets, communities, grids


def build_tree(residents: int) -> Tree:
    from regions import services as rs
    from registry.demo import GRID_NAMES, layout

    n_d, n_s, n_c, n_g = plan_counts(residents)
    since = dt.date(2000, 1, 1)
    city = rs.create_region(None, parent=None, code="320500000000", name="苏州市", valid_from=since)
    grid_counts = [min(GRIDS_PER_COMMUNITY, n_g - i * GRIDS_PER_COMMUNITY) for i in range(n_c)]
    shapes = layout(grid_counts)
    tree = Tree(city, [], [], [], [])
    names = iter(SYLLABLES * 100)
    c_index = 0
    for d in range(n_d):
        district = rs.create_region(None, parent=city, code=f"3205{d + 1:02d}000000", name=f"{next(names)}区", valid_from=since)
        tree.districts.append(district)
        for s in range(min(STREETS_PER_DISTRICT, n_s - d * STREETS_PER_DISTRICT)):
            street = rs.create_region(None, parent=district, code=f"{district.code[:6]}{s + 1:03d}000",
                                      name=f"{next(names)}街道", valid_from=since)
            tree.streets.append(street)
            for c in range(min(COMMUNITIES_PER_STREET, n_c - c_index)):
                cshape, gshapes = shapes[c_index]
                community = rs.create_region(None, parent=street, code=f"{street.code[:9]}{c + 1:03d}",
                                             name=f"{next(names)}社区", boundary=cshape, valid_from=since)
                tree.communities.append(community)
                for g in range(grid_counts[c_index]):
                    tree.grids.append(rs.create_region(None, parent=community, code="", name=GRID_NAMES[g % 10],
                                                       boundary=gshapes[g], valid_from=since))
                c_index += 1
    return tree


# ------------------------------------------------------------------ workers (forked)

def _grid_rows(task):
    """One grid's rows with local indices; runs in a worker process."""
    from linli import pii
    from registry.demo import Synthesizer
    from registry.models import Organization, Resident
    from registry.services.pinyin import name_pinyin

    index, area_code, n, seed, today = task
    synth = Synthesizer(seed=seed + index * 7919, today=today)
    plan = synth.grid(n, area_code=area_code)
    buildings, houses, households, residents, orgs = [], [], [], [], []
    for bi, b in enumerate(plan.buildings):
        buildings.append((b.estate, b.number, b.address, b.floors, b.units))
        for h in b.houses:
            houses.append((bi, h.unit, h.room, h.floor, h.use, f"{h.area:.2f}"))
            if h.household is None:
                continue
            households.append((len(houses) - 1,))
            for p in h.household.members:
                # name_pinyin(p.name), read as surname + given name so that the caches hit
                # (identical on the synthesizer's names: checked on 20,000 of them).
                head, tail = name_pinyin(p.surname), name_pinyin("王" + p.name[len(p.surname):])
                py, ini = head[0] + tail[0][4:], head[1] + tail[1][1:]
                number = p.id_number
                residents.append([
                    len(households) - 1, p.name, py, ini, p.gender, p.birth.isoformat(),
                    pii.encrypt(number, Resident.AAD_ID), pii.blind_index(number, "id_number"), pii.mask_id_number(number),
                    pii.encrypt(p.phone, Resident.AAD_PHONE), pii.blind_index(p.phone, "phone"), pii.mask_phone(p.phone),
                    p.ethnicity, p.residence_type, p.political_status, p.relation, p.on.isoformat(), number, tuple(p.tags),
                ])
    for o in plan.organizations:
        orgs.append((o.name, o.kind, o.credit_code, o.address, o.building_index, o.contact_name,
                     pii.encrypt(o.contact_phone, Organization.AAD_PHONE), pii.blind_index(o.contact_phone, "phone"),
                     pii.mask_phone(o.contact_phone), o.employees))
    return index, buildings, houses, households, residents, orgs


# ------------------------------------------------------------------ writing

class Table:
    """Raw bulk insert of a model's rows, given the columns we fill; other columns get their
    field default."""

    def __init__(self, model, columns: list[str]):
        self.model = model
        self.table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in fields]
        self.fill = {}
        for f in fields:
            if f.column in columns:
                continue
            default = f.get_default() if f.has_default() else None
            if default is None and not f.null:
                default = "" if f.get_internal_type() in ("CharField", "TextField", "SlugField") else None
            self.fill[f.column] = default
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise RuntimeError(f"{self.table} has no columns {missing}")
        self.given = columns
        self.order = [(True, columns.index(c)) if c in columns else (False, self.fill[c]) for c in self.columns]

    def rows(self, rows):
        order = self.order
        for r in rows:
            yield tuple(r[i] if given else i for given, i in order)

    def insert(self, rows: list):
        if not rows:
            return
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as c:
            if connection.vendor == "postgresql":
                with c.cursor.copy(f"COPY {connection.ops.quote_name(self.table)} ({cols}) FROM STDIN") as cp:
                    for row in self.rows(rows):
                        cp.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                c.executemany(f"INSERT INTO {connection.ops.quote_name(self.table)} ({cols}) VALUES ({marks})",
                              list(self.rows(rows)))


def _stamp(now: dt.datetime) -> str:
    now = now.astimezone(dt.UTC)
    if connection.vendor == "postgresql":
        return now.isoformat()
    return now.replace(tzinfo=None).isoformat(sep=" ")


def reset_sequences(models):
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as c:
        for m in models:
            t = m._meta.db_table
            c.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)")


def _next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1


@dataclass
class Generated:
    residents: int
    households: int
    houses: int
    buildings: int
    tags: int
    organizations: int
    grids: int
    seconds: float
    tree_seconds: float
    sample: list  # [(id_number, name, initials, region_path)]
    id_collisions_fixed: int


def generate(residents: int, *, seed: int = 1, workers: int = 2, log=print, sample_every: int = 0) -> Generated:
    from registry.demo import _split
    from registry.models import (
        Building,
        CareTag,
        House,
        Household,
        HouseholdMembership,
        Organization,
        Resident,
        ResidentEvent,
        ResidentTag,
    )
    from registry.services import idnumber

    started = time.perf_counter()
    with transaction.atomic():
        tree = build_tree(residents)
    tree_seconds = time.perf_counter() - started
    log(f"  tree: {len(tree.grids)} grids, {len(tree.communities)} communities, {len(tree.streets)} streets "
        f"in {tree_seconds:.1f} s")

    today = timezone.localdate()
    now = _stamp(timezone.now())
    all_tags = {t.code: t for t in CareTag.objects.filter(active=True)}
    age_tags = [(t.id, t.min_age, t.max_age) for t in all_tags.values() if t.min_age is not None or t.max_age is not None]
    tag_ids = {code: t.id for code, t in all_tags.items()}

    t_building = Table(Building, ["id", "region_id", "region_path", "estate", "number", "address", "floors", "units"])
    t_house = Table(House, ["id", "region_id", "region_path", "building_id", "unit", "room", "floor", "use", "area"])
    t_household = Table(Household, ["id", "region_id", "region_path", "house_id", "number", "head_id", "created_at"])
    t_resident = Table(Resident, ["id", "region_id", "region_path", "name", "pinyin", "initials", "gender", "birth_date",
                                  "id_number_enc", "id_number_bidx", "id_number_masked", "phone_enc", "phone_bidx",
                                  "phone_masked", "ethnicity", "residence_type", "political_status", "household_id",
                                  "relation", "status", "created_at", "updated_at"])
    t_member = Table(HouseholdMembership, ["id", "household_id", "resident_id", "relation", "start_date"])
    t_event = Table(ResidentEvent, ["id", "resident_id", "kind", "date", "to_household_id", "note", "created_at"])
    t_tag = Table(ResidentTag, ["id", "resident_id", "tag_id", "start_date", "note", "region_path"])
    t_org = Table(Organization, ["id", "region_id", "region_path", "name", "kind", "credit_code", "address",
                                 "building_id", "contact_name", "contact_phone_enc", "contact_phone_bidx",
                                 "contact_phone_masked", "employees"])
    ids = {m: _next_id(m) for m in (Building, House, Household, Resident, HouseholdMembership, ResidentEvent,
                                     ResidentTag, Organization)}

    rng = random.Random(seed)
    sizes = _split(residents, len(tree.grids), rng)
    tasks = [(i, g.code[:6], n, seed, today) for i, (g, n) in enumerate(zip(tree.grids, sizes, strict=True))]
    grids = tree.grids
    seen_ids: set[str] = set()
    fixed = 0
    sample: list = []
    totals = dict(residents=0, households=0, houses=0, buildings=0, tags=0, organizations=0)
    sample_every = sample_every or max(1, residents // 2000)
    counter = 0

    def age_on(birth: str) -> int:
        y, m, d = int(birth[:4]), int(birth[5:7]), int(birth[8:10])
        return today.year - y - ((today.month, today.day) < (m, d))

    connections.close_all()
    ctx = mp.get_context("fork")
    gen_started = time.perf_counter()
    with ctx.Pool(workers) as pool:
        pending = []
        batch_started = time.perf_counter()
        for result in pool.imap(_grid_rows, tasks, chunksize=1):
            pending.append(result)
            if len(pending) < 8 and result[0] != len(tasks) - 1:
                continue
            B, H, HH, R, M, E, T, OG = [], [], [], [], [], [], [], []
            for index, buildings, houses, households, people, orgs in pending:
                grid = grids[index]
                gid, path = grid.pk, grid.path
                b0, h0, hh0, r0 = ids[Building], ids[House], ids[Household], ids[Resident]
                for b in buildings:
                    B.append((ids[Building], gid, path, *b))
                    ids[Building] += 1
                for h in houses:
                    H.append((ids[House], gid, path, b0 + h[0], *h[1:]))
                    ids[House] += 1
                heads = {}
                # resident ids are r0 + position; a household's head is its member with relation head
                for pos, p in enumerate(people):
                    if p[15] == "head":
                        heads[p[0]] = r0 + pos
                for k, hh in enumerate(households):
                    HH.append((ids[Household], gid, path, h0 + hh[0], "", heads.get(k), now))
                    ids[Household] += 1
                for p in people:
                    rid = ids[Resident]
                    ids[Resident] += 1
                    number = p[17]
                    if number in seen_ids:  # same number drawn in two grids: draw another
                        birth = dt.date.fromisoformat(p[5])
                        for s in range(500):
                            number = idnumber.make(number[:6], birth, p[4], s)
                            if number not in seen_ids:
                                break
                        r = Resident()
                        r.set_id_number(number)
                        p[6], p[7], p[8] = r.id_number_enc, r.id_number_bidx, r.id_number_masked
                        fixed += 1
                    seen_ids.add(number)
                    hh_id = hh0 + p[0]
                    R.append((rid, gid, path, p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11],
                              p[12], p[13], p[14], hh_id, p[15], "active", now, now))
                    M.append((ids[HouseholdMembership], hh_id, rid, p[15], p[16]))
                    ids[HouseholdMembership] += 1
                    E.append((ids[ResidentEvent], rid, "registered", p[16], hh_id, "", now))
                    ids[ResidentEvent] += 1
                    age = age_on(p[5])
                    for tid, lo, hi in age_tags:
                        if (lo is None or age >= lo) and (hi is None or age <= hi):
                            T.append((ids[ResidentTag], rid, tid, today.isoformat(), "", path))
                            ids[ResidentTag] += 1
                    for code in dict.fromkeys(p[18]):
                        if code in tag_ids:
                            start = max(p[16], (today - dt.timedelta(days=3 * 365)).isoformat())
                            T.append((ids[ResidentTag], rid, tag_ids[code], start, "", path))
                            ids[ResidentTag] += 1
                    counter += 1
                    if counter % sample_every == 0:
                        sample.append((number, p[1], p[3], path))
                for o in orgs:
                    OG.append((ids[Organization], gid, path, o[0], o[1], o[2], o[3],
                              b0 + o[4] if o[4] is not None else None, *o[5:]))
                    ids[Organization] += 1
            with transaction.atomic():
                t_building.insert(B)
                t_house.insert(H)
                t_household.insert(HH)
                t_resident.insert(R)
                t_member.insert(M)
                t_event.insert(E)
                t_tag.insert(T)
                t_org.insert(OG)
            for key, rows in (("buildings", B), ("houses", H), ("households", HH), ("residents", R), ("tags", T),
                              ("organizations", OG)):
                totals[key] += len(rows)
            done = totals["residents"]
            rate = done / (time.perf_counter() - gen_started)
            log(f"  {done:>9,} residents  ({rate:,.0f}/s; last batch {time.perf_counter() - batch_started:.1f} s)")
            pending = []
            batch_started = time.perf_counter()
    reset_sequences([Building, House, Household, Resident, HouseholdMembership, ResidentEvent, ResidentTag, Organization])
    with connection.cursor() as c:
        c.execute("ANALYZE")
    seconds = time.perf_counter() - started
    return Generated(grids=len(grids), seconds=seconds, tree_seconds=tree_seconds, sample=sample,
                     id_collisions_fixed=fixed, **totals)
