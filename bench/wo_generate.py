"""A year of work orders in a synthetic city, written straight into the database.

The tree comes from bench.generate.build_tree (rectangular grid boundaries, ~400 grids for the
default size); categories from workorders.services.seed when it is there, else a small set made here;
staff and resident accounts through bulk inserts (one password hash for all). Orders are spread
over the grids and the last 365 days with the status mix of a working city: most closed (some
settled on the spot, some late, reworked or extended), a few voided or duplicates, and the
recent ones still open at every stage, the older open ones overdue. Every order has its report
transition and the transition of its last step; an open order has one per step it went through.
Rows go in with COPY on PostgreSQL (executemany on SQLite), ids allocated up front.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from bench.generate import Table, _next_id, build_tree, reset_sequences

GRIDS = 400  # the tree bench.generate builds for 1,000,000 residents
RESIDENT_USERS_PER_GRID = 3
PASSWORD = "linli-demo"
BATCH = 50_000

DESCRIPTIONS = [
    "楼道堆放杂物，影响通行", "路灯不亮已有三天", "小区门口垃圾未及时清运", "井盖松动，存在安全隐患",
    "楼上噪音扰民，多次沟通无果", "绿化带被占用种菜", "电动车在楼道充电", "下水道堵塞返臭",
    "共享单车乱停放", "外墙瓷砖脱落", "宠物粪便无人清理", "路面坑洼积水", "广告乱张贴", "消防通道被占用",
    "居民申请办理相关证明", "老人需要上门服务", "邻里因漏水产生纠纷", "违规搭建遮阳棚",
]

# Fallback categories (code, name, kind, parent code, settle on spot, handling level, department).
FALLBACK_CATEGORIES = [
    ("incident", "事件", "incident", None, True, 4, ""),
    ("env.litter", "暴露垃圾", "incident", "incident", True, 4, ""),
    ("env.clutter", "楼道堆物", "incident", "incident", True, 4, ""),
    ("safety.hazard", "安全隐患", "incident", "incident", False, 4, ""),
    ("order.dispute", "邻里纠纷", "incident", "incident", True, 4, ""),
    ("order.parking", "车辆乱停", "incident", "incident", True, 4, ""),
    ("facility.light", "路灯损坏", "incident", "incident", False, 3, "城管局"),
    ("facility.road", "道路破损", "incident", "incident", False, 3, "住建局"),
    ("demand", "诉求", "demand", None, False, 4, ""),
    ("demand.noise", "噪音扰民", "demand", "demand", False, 4, ""),
    ("demand.elderly", "为老服务", "demand", "demand", False, 4, ""),
    ("service", "一窗受理", "service", None, False, 4, ""),
    ("service.certificate", "开具证明", "service", "service", False, 4, ""),
    ("service.subsidy", "补贴申请", "service", "service", False, 4, ""),
]

# Open orders by status (weights), and the steps that lead to each.
OPEN_MIX = [("reported", 8), ("filed", 10), ("dispatched", 22), ("in_progress", 32), ("handled", 12), ("verified", 6),
            ("suspended", 10)]
STEPS = {
    "reported": [],
    "filed": [("file", "reported", "filed")],
    "dispatched": [("file", "reported", "filed"), ("dispatch", "filed", "dispatched")],
    "in_progress": [("file", "reported", "filed"), ("dispatch", "filed", "dispatched"), ("start", "dispatched", "in_progress")],
    "handled": [("file", "reported", "filed"), ("dispatch", "filed", "dispatched"), ("start", "dispatched", "in_progress"),
                ("handle", "in_progress", "handled")],
    "verified": [("file", "reported", "filed"), ("dispatch", "filed", "dispatched"), ("start", "dispatched", "in_progress"),
                 ("handle", "in_progress", "handled"), ("verify", "handled", "verified")],
    "suspended": [("file", "reported", "filed"), ("dispatch", "filed", "dispatched"), ("start", "dispatched", "in_progress"),
                  ("decide", "in_progress", "suspended")],
}
STAGE_OF = {"reported": "file", "filed": "dispatch", "dispatched": "handle", "in_progress": "handle", "handled": "verify",
            "verified": "verify", "suspended": ""}


@dataclass
class City:
    grids: list
    communities: list
    streets: list
    districts: list
    city: object
    categories: list  # leaf Category rows
    users: dict = field(default_factory=dict)  # role key -> {region path: user id}
    residents: dict = field(default_factory=dict)  # grid path -> [user ids]


# ------------------------------------------------------------------ tree, categories, people

def ensure_categories() -> list:
    from workorders.models import Category, HandlerLevel, Kind, RoutingRule, SlaRule, Stage

    try:
        from workorders.services.seed import seed_categories
    except ImportError:
        seed_categories = None
    if seed_categories is not None and not Category.objects.exists():
        seed_categories()
    if not Category.objects.filter(is_group=False, active=True).exists():
        made = {}
        for code, name, kind, parent, spot, level, dept in FALLBACK_CATEGORIES:
            c = Category.objects.create(code=code, name=name, kind=Kind(kind), parent=made.get(parent), settle_on_spot=spot,
                                        is_group=parent is None)
            made[code] = c
            if parent is None:
                for stage, minutes, urgent in ((Stage.FILE, 30, 10), (Stage.DISPATCH, 30, 10), (Stage.HANDLE, 2880, 240),
                                               (Stage.VERIFY, 120, 60)):
                    SlaRule.objects.create(category=c, stage=stage, minutes=minutes, urgent_minutes=urgent)
                RoutingRule.objects.create(category=c, level=HandlerLevel.COMMUNITY)
            elif level != HandlerLevel.COMMUNITY or dept:
                RoutingRule.objects.create(category=c, level=level, department=dept)
    # Leaves that take orders; mediation and supervision have desks of their own elsewhere.
    return list(Category.objects.filter(is_group=False, active=True).exclude(kind__in=["mediation", "supervision"])
                .select_related("parent").order_by("id"))


def make_people(city: City) -> None:
    """Staff at every node and a few resident accounts per grid, inserted in bulk."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, RoleAssignment, User

    hashed = make_password(PASSWORD)
    plan = [("wo_city", "市级管理员", Role.CITY_ADMIN, city.city, "")]
    for i, d in enumerate(city.districts, 1):
        plan.append((f"wo_district_{i:02d}", f"{d.name}管理员", Role.DISTRICT_ADMIN, d, ""))
        for dept in ("住建局", "城管局"):
            plan.append((f"wo_dept_{'zj' if dept == '住建局' else 'cg'}_{i:02d}", f"{d.name}{dept}", Role.DEPARTMENT_HANDLER, d, dept))
    for i, s in enumerate(city.streets, 1):
        plan.append((f"wo_street_{i:03d}", f"{s.name}干部", Role.STREET_OFFICER, s, ""))
    for i, c in enumerate(city.communities, 1):
        plan.append((f"wo_community_{i:04d}", f"{c.name}社工", Role.COMMUNITY_WORKER, c, ""))
    for i, g in enumerate(city.grids, 1):
        plan.append((f"wo_grid_{i:04d}", f"网格员{i:04d}", Role.GRID_WORKER, g, ""))
        for k in range(RESIDENT_USERS_PER_GRID):
            plan.append((f"wo_resident_{i:04d}_{k}", f"居民{i:04d}{k}", Role.RESIDENT, g, ""))
    users = User.objects.bulk_create([User(username=u, display_name=n, password=hashed) for u, n, *_ in plan])
    RoleAssignment.objects.bulk_create([
        RoleAssignment(user=user, role=role, region=region, region_path=region.path, department=dept)
        for user, (_u, _n, role, region, dept) in zip(users, plan, strict=True)
    ])
    for user, (_u, _n, role, region, dept) in zip(users, plan, strict=True):
        if role == Role.RESIDENT:
            city.residents.setdefault(region.path, []).append(user.pk)
        else:
            city.users.setdefault(role + (f":{dept}" if dept else ""), {})[region.path] = user.pk


def load_city() -> City:
    """The city of a database generated earlier (for the benchmarks)."""
    from accounts.models import Role, RoleAssignment
    from regions.models import Level, Region

    by_level = {lv: list(Region.objects.filter(level=lv).order_by("path")) for lv in Level.values}
    from workorders.models import Category

    city = City(grids=by_level[Level.GRID], communities=by_level[Level.COMMUNITY], streets=by_level[Level.STREET],
                districts=by_level[Level.DISTRICT], city=by_level[Level.CITY][0],
                categories=list(Category.objects.filter(is_group=False, active=True).order_by("id")))
    for user_id, role, path, dept in RoleAssignment.objects.filter(user__username__startswith="wo_").values_list(
            "user_id", "role", "region_path", "department"):
        if role == Role.RESIDENT:
            city.residents.setdefault(path, []).append(user_id)
        else:
            city.users.setdefault(role + (f":{dept}" if dept else ""), {})[path] = user_id
    return city


# ------------------------------------------------------------------ orders

def _handler(category, grid, regions_by_path, rules):
    """(handler region, department) as routing.handler_for gives it, from rules loaded once."""
    from regions.models import Region

    rule = rules.get(category.pk)
    level = rule[1] if rule else 4  # routing.rule_for: (region_path, level, department)
    dept = rule[2] if rule else ""
    path = grid.path[: Region.steplen * level] if grid.level > level else grid.path
    return regions_by_path[path], dept


def _routing_rules(categories):
    from workorders.services import routing

    return {c.pk: routing.rule_for(c, c_grid) for c, c_grid in categories}


def generate_orders(n: int, city: City, *, seed: int = 1, days: int = 365, log=print) -> dict:
    from accounts.models import Role
    from regions.models import Region
    from workorders.models import Rating, Transition, WorkOrder

    steplen = Region.steplen
    rng = random.Random(seed)
    now = timezone.now()
    regions_by_path = {r.path: r for r in [*city.grids, *city.communities, *city.streets, *city.districts, city.city]}
    cats = city.categories
    rules = _routing_rules([(c, city.grids[0]) for c in cats])
    # Frequent things are frequent: litter and clutter far more than subsidies.
    cat_weights = [max(1, 12 - i) for i in range(len(cats))]
    grid_weights = [rng.uniform(0.5, 1.5) for _ in city.grids]
    grid_workers = city.users.get(Role.GRID_WORKER, {})
    community_workers = city.users.get(Role.COMMUNITY_WORKER, {})
    street_officers = city.users.get(Role.STREET_OFFICER, {})
    depts = {k.split(":", 1)[1]: v for k, v in city.users.items() if k.startswith(Role.DEPARTMENT_HANDLER + ":")}
    boxes = {g.path: (g.min_lng, g.min_lat, g.max_lng, g.max_lat) for g in city.grids}

    t_order = Table(WorkOrder, [
        "id", "token", "category_id", "kind", "status", "priority", "source", "title", "description", "attributes",
        "region_id", "region_path", "lat", "lng", "address", "reporter_id", "reporter_name", "client",
        "handler_region_id", "handler_region_path", "department", "assignee_id", "reported_at", "filed_at",
        "dispatched_at", "started_at", "handled_at", "verified_at", "closed_at", "stage", "due_at", "deadline",
        "overdue", "rework_count", "extension_count", "escalation_count", "supervision_count", "was_suspended",
        "settled_on_spot", "settled_in_grid", "suspended_status", "version", "updated_at",
    ])
    t_trans = Table(Transition, ["id", "order_id", "action", "from_status", "to_status", "actor_id", "at", "note", "data"])
    t_rating = Table(Rating, ["id", "order_id", "score", "comment", "by_id", "at"])
    next_order, next_trans, next_rating = _next_id(WorkOrder), _next_id(Transition), _next_id(Rating)

    counts = {"orders": 0, "transitions": 0, "ratings": 0, "open": 0, "overdue": 0, "closed": 0, "settled_on_spot": 0,
              "voided": 0, "duplicate": 0}
    minute = dt.timedelta(minutes=1)
    hour = dt.timedelta(hours=1)
    started = time.perf_counter()
    rows_o, rows_t, rows_r = [], [], []
    grid_choices = rng.choices(range(len(city.grids)), weights=grid_weights, k=n)
    cat_choices = rng.choices(range(len(cats)), weights=cat_weights, k=n)
    # Oldest first, so ids grow with time as they do in a live system.
    ages = sorted((rng.random() * days for _ in range(n)), reverse=True)

    def flush():
        with transaction.atomic():
            t_order.insert(rows_o)
            t_trans.insert(rows_t)
            t_rating.insert(rows_r)
        rows_o.clear()
        rows_t.clear()
        rows_r.clear()

    for i in range(n):
        grid = city.grids[grid_choices[i]]
        cat = cats[cat_choices[i]]
        age = ages[i]
        reported = now - dt.timedelta(days=age)
        handler, dept = _handler(cat, grid, regions_by_path, rules)
        community_path = grid.path[: steplen * 4]
        gw = grid_workers.get(grid.path)
        cw = community_workers.get(community_path)
        residents = city.residents.get(grid.path) or [None]
        r = rng.random()
        if r < 0.45:
            source, reporter, name = "portal", rng.choice(residents), "居民"
        elif r < 0.85:
            source, reporter, name = "grid", gw, "网格员"
        else:
            source, reporter, name = "hotline", cw, "来电市民"
        urgent = rng.random() < 0.05
        lng0, lat0, lng1, lat1 = boxes[grid.path]
        lat, lng = rng.uniform(lat0, lat1), rng.uniform(lng0, lng1)
        oid = next_order
        next_order += 1
        # What happened to it: open chance falls with age.
        p_open = 0.7 if age < 2 else 0.4 if age < 7 else 0.1 if age < 30 else 0.004
        u = rng.random()
        spot = source == "grid" and cat.settle_on_spot and rng.random() < 0.5
        handle_hours = rng.uniform(2, 30) if not urgent else rng.uniform(0.5, 4)
        deadline = reported + dt.timedelta(minutes=60 + 48 * 60 + 120) if not urgent else reported + dt.timedelta(minutes=20 + 240 + 60)
        filed = reported + minute * rng.uniform(2, 25)
        dispatched = filed + minute * rng.uniform(2, 25)
        started_at = dispatched + hour * rng.uniform(0.2, 3)
        handled = started_at + hour * handle_hours
        verified = handled + minute * rng.uniform(10, 110)
        closed = verified + minute * rng.uniform(1, 60)
        late = rng.random() < 0.08
        if late:
            handled += hour * rng.uniform(24, 96)
            verified += hour * rng.uniform(24, 96)
            closed = verified + minute * rng.uniform(1, 60)
        assignee = depts.get(dept, {}).get(handler.path[: steplen * 2]) if dept else gw
        rework = 1 if rng.random() < 0.05 else 0
        extension = 1 if rng.random() < 0.04 else 0
        status, stage, due, overdue, suspended_status = "closed", "", None, False, ""
        stamps = [filed, dispatched, started_at, handled, verified, closed]
        steps = []
        settled_in_grid = False
        if spot and u > 0.02:
            status = "closed"
            stamps = [reported] * 6
            assignee = gw
            handler = grid
            dept = ""
            settled_in_grid = True
            steps = [("settle_on_spot", "reported", "closed", gw, reported)]
            counts["settled_on_spot"] += 1
        elif u < 0.02:
            status = "voided" if u < 0.013 else "duplicate"
            stamps = [None] * 6
            assignee = None
            steps = [("void" if status == "voided" else "mark_duplicate", "reported", status, cw, filed)]
            counts[status] += 1
        elif u < 0.02 + p_open and (reported + hour * 0.1) < now:
            status = rng.choices([s for s, _w in OPEN_MIX], weights=[w for _s, w in OPEN_MIX])[0]
            path = STEPS[status]
            times = [filed, dispatched, started_at, handled, verified]
            if status == "suspended":
                times = [filed, dispatched, started_at, dispatched + hour * rng.uniform(1, 20)]
            # Steps not yet due by now have not happened: squeeze them into the time since the report.
            span = (now - reported) * rng.uniform(0.3, 0.95)
            scale = min(1.0, span / max(times[len(path) - 1] - reported, minute)) if path else 1.0
            times = [reported + (t - reported) * scale for t in times]
            steps = [(a, f, t, cw if a in ("file", "dispatch", "decide") else assignee, times[k]) for k, (a, f, t) in enumerate(path)]
            done = min(len(path), 3) if status == "suspended" else len(path)
            stamps = [times[k] if k < done else None for k in range(5)] + [None]
            if status in ("reported", "filed"):
                assignee = None
            stage = STAGE_OF[status]
            last = steps[-1][4] if steps else reported
            limit = {"file": 30, "dispatch": 30, "handle": 2880, "verify": 120}.get(stage)
            if status == "suspended":
                suspended_status, due = "in_progress", None
            elif limit:
                due = last + minute * (limit if not urgent else max(10, limit // 8))
                overdue = due < now
            counts["open"] += 1
            counts["overdue"] += overdue
        else:
            steps = [("dispatch", "filed", "dispatched", cw, dispatched), ("close", "verified", "closed", cw, closed)]
            counts["closed"] += 1
            settled_in_grid = not dept and rng.random() < 0.6
        updated = steps[-1][4] if steps else reported
        rows_o.append((
            oid, uuid.UUID(int=rng.getrandbits(128), version=4), cat.pk, cat.kind, status, "urgent" if urgent else "normal",
            source, cat.name, rng.choice(DESCRIPTIONS), "{}", grid.pk, grid.path, round(lat, 6), round(lng, 6), "",
            reporter, name, "", handler.pk, handler.path, dept, assignee, reported, *stamps, stage, due, deadline, overdue,
            rework if status == "closed" and not spot else 0, extension if status == "closed" and not spot else 0, 0, 0,
            status == "suspended", spot and status == "closed", settled_in_grid, suspended_status, 1 + len(steps), updated,
        ))
        rows_t.append((next_trans, oid, "report", "", "reported", reporter, reported, "", json.dumps({"source": source})))
        next_trans += 1
        for action, frm, to, actor, at in steps:
            rows_t.append((next_trans, oid, action, frm, to, actor, at, "", "{}"))
            next_trans += 1
        if status == "closed" and source == "portal" and reporter and rng.random() < 0.5:
            score = rng.choices([5, 4, 3, 2, 1], weights=[60, 25, 9, 4, 2])[0]
            rows_r.append((next_rating, oid, score, "", reporter, closed + hour * rng.uniform(1, 48)))
            next_rating += 1
            counts["ratings"] += 1
        counts["orders"] += 1
        counts["transitions"] += 1 + len(steps)
        if len(rows_o) >= BATCH:
            flush()
            rate = counts["orders"] / (time.perf_counter() - started)
            log(f"  {counts['orders']:>9,} orders ({rate:,.0f}/s)")
    flush()
    reset_sequences([WorkOrder, Transition, Rating])
    counts["seconds"] = round(time.perf_counter() - started, 1)
    counts["street_officers"] = len(street_officers)
    return counts


def generate(orders: int, *, seed: int = 1, log=print) -> dict:
    """Tree, categories, people and `orders` work orders; then ANALYZE."""
    t0 = time.perf_counter()
    with transaction.atomic():
        tree = build_tree(GRIDS * 2500)
        cats = ensure_categories()
        city = City(grids=tree.grids, communities=tree.communities, streets=tree.streets, districts=tree.districts,
                    city=tree.city, categories=cats)
        make_people(city)
    tree_seconds = time.perf_counter() - t0
    log(f"  tree, {len(cats)} categories and people in {tree_seconds:.1f} s; {len(tree.grids)} grids")
    counts = generate_orders(orders, city, seed=seed, log=log)
    with connection.cursor() as c:
        c.execute("ANALYZE")
    counts["tree_seconds"] = round(tree_seconds, 1)
    counts["grids"] = len(tree.grids)
    counts["categories"] = len(cats)
    counts["total_seconds"] = round(time.perf_counter() - t0, 1)
    return counts
