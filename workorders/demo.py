"""Demo work orders for the demo city: about 300 orders over the last 60 days in every grid,
made through the services on a moving clock, so each carries the transitions, deadlines,
notifications and counters a real one would. Some are still open at every stage, some overdue
and supervised (督办), reworked, extended, suspended, escalated, settled on the spot, rated;
a few are one-window applications, some waiting for materials after a one-time notice.

Every desk and dashboard has something to show after `make run`. Idempotent: orders marked as
demo ones (client "demo") mean it has run; the second run only returns.

Outside the demo accounts' community each grid, community and district department gets a
stand-in handler (an account that cannot sign in, username "demo-..."), so orders there can
run their whole course too.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleAssignment, User
from regions.models import Level, Region
from registry.models import Resident

from .models import Category, Kind, RequestKind, Source, Status, WorkOrder
from .services import orders as lifecycle
from .services import routing, window
from .services.seed import seed_categories

DEMO_CLIENT = "demo"
DAYS = 60
# Incident categories by weight (what a grid worker sees most).
INCIDENTS = [
    ("env.litter", 14), ("env.materials", 6), ("env.vending", 6), ("env.posting", 5), ("safety.fire_lane", 5),
    ("safety.ebike", 6), ("safety.gas", 2), ("safety.building", 1), ("facility.road", 4), ("facility.manhole", 2),
    ("facility.streetlight", 3), ("facility.sewer", 3), ("facility.elevator", 3), ("order.noise", 7),
    ("order.illegal_building", 3), ("order.group_rental", 2), ("incident.dispute", 5), ("incident.emergency", 1),
]
DEMANDS = [("demand.property", 4), ("demand.parking", 4), ("demand.elevator", 2), ("demand.hardship", 2), ("demand.policy", 2),
           ("demand.suggestion", 2)]
SETTLE = ["env.litter", "env.posting", "env.vending", "safety.fire_lane", "safety.ebike", "order.noise", "env.materials"]
TEXTS = {
    "env.litter": ["楼道口垃圾桶满溢，周边有散落垃圾", "绿化带里有人倒了几袋生活垃圾", "小区西门外垃圾堆放两天没人清运"],
    "env.materials": ["装修建筑垃圾堆在单元门口", "楼下空地堆了很多旧家具和木板"],
    "env.vending": ["早上菜贩在人行道上摆摊，行人没法走", "水果店把货架摆到门外占了半条路"],
    "env.posting": ["楼道墙面贴满开锁、疏通小广告", "电线杆上贴了很多办证广告"],
    "safety.fire_lane": ["消防通道被私家车长期占用", "消防通道口堆了杂物和共享单车"],
    "safety.ebike": ["三楼住户把电动车推进楼道飞线充电", "楼道里停了三辆电动车在充电"],
    "safety.gas": ["楼道里闻到明显煤气味", "一楼餐馆液化气罐摆放不规范"],
    "safety.building": ["老房子外墙开裂，有墙皮掉落"],
    "facility.road": ["小区门口路面塌陷一个坑，下雨积水", "人行道砖松动翘起，老人容易绊倒"],
    "facility.manhole": ["路口井盖缺失，已用锥桶临时围住", "窨井盖破损，车辆压过有响声"],
    "facility.streetlight": ["巷子里三盏路灯晚上不亮", "河边步道路灯一直闪"],
    "facility.sewer": ["下水道堵塞，污水漫到路面", "化粪池外溢，气味很大"],
    "facility.elevator": ["5号楼电梯停运两天", "电梯运行时有异响，居民不敢坐"],
    "order.noise": ["楼上装修周末早上七点就开始电钻", "广场舞音响晚上九点后还很响", "夜宵店晚上十一点后很吵"],
    "order.illegal_building": ["顶楼住户在露台搭建阳光房", "一楼住户在院子里私搭板房"],
    "order.group_rental": ["一套两居室隔成六间出租，住了十几个人"],
    "incident.dispute": ["楼上漏水到楼下，两户吵起来了", "邻居在公共走廊堆放杂物引发争执", "宠物狗夜间吠叫，邻里矛盾激化"],
    "incident.emergency": ["独居老人走失，家属请求帮助寻找", "小区配电房冒烟，整栋楼停电"],
    "demand.property": ["物业对楼道卫生打扫不及时", "小区门禁坏了一周没人修"],
    "demand.parking": ["小区车位不够，晚上车停到消防通道", "希望小区增设电动车充电桩"],
    "demand.elevator": ["老旧小区希望加装电梯，多数住户同意"],
    "demand.hardship": ["家中老人重病，生活困难希望得到救助", "失业在家，孩子上学有困难"],
    "demand.policy": ["咨询高龄津贴怎么申请", "咨询医保参保缴费时间"],
    "demand.suggestion": ["建议在小区里增加休息座椅", "建议社区开设老年智能手机培训"],
}
ATTRIBUTES = {
    "env.litter": {"amount": ["small", "cart", "large"]},
    "env.materials": {"material": ["construction", "decoration", "sundries"]},
    "env.vending": {"vendor": ["mobile", "shopfront", "night"]},
    "safety.fire_lane": {"blocked_by": ["car", "sundries", "lock"]},
    "safety.gas": {"smell": ["yes", "no"]},
    "safety.building": {"occupied": ["yes", "no"]},
    "facility.road": {"size": ["small", "medium", "large"]},
    "facility.manhole": {"road": ["carriageway", "sidewalk", "estate"]},
    "facility.sewer": {"overflow": ["yes", "no"]},
    "facility.elevator": {"trapped": ["no", "no", "yes"]},
    "order.noise": {"source": ["renovation", "shop", "dance", "pet"]},
    "order.illegal_building": {"phase": ["building", "built"]},
    "incident.emergency": {"type": ["missing", "outage", "flood"], "injured": ["no"]},
    "demand.elevator": {"building": ["3号楼", "5号楼", "8号楼"]},
}
HANDLED_NOTES = ["已到现场处理完毕", "已联系责任单位整改到位", "已协调物业清理", "已约谈当事人并整改", "已维修恢复正常"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["秀英", "建国", "丽华", "志强", "桂兰", "海燕", "国平", "文静", "子涵", "浩然", "玉珍", "明"]


class Clock:
    """The services' clock, moved by the generator (back-dated steps)."""

    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now


class _Users(list):
    """A list of users that answers .exists() like the queryset it stands for."""

    def exists(self):
        return bool(self)


@contextmanager
def _moving_clock():
    """The services on a clock the generator moves; the units and role holders they look up
    are remembered instead of read for every step."""
    clock = Clock()
    # SLA limits, routing rules and the calendar are kept per process (access.py).
    saved = (lifecycle._now, routing.unit_at_level, getattr(settings, "LINLI_NOTIFY_COPIES", True))
    unit_at_level = saved[1]
    units: dict = {}

    def cached_unit(region, level):
        key = (region.path, level)
        if key not in units:
            units[key] = unit_at_level(region, level)
        return units[key]

    saved_notify = lifecycle._notify

    def recent_notify(users, order, verb, text, params=None):
        # Messages about last week's steps would long have been read: only recent ones ring.
        if clock.now > timezone.now() - dt.timedelta(days=3):
            saved_notify(users, order, verb, text, params)

    users_with, holders = lifecycle._users_with, {}

    def cached_users_with(roles, region_path, exact=True, department=""):
        key = (tuple(sorted(roles)), region_path, exact, department)
        if key not in holders:
            holders[key] = _Users(users_with(roles, region_path, exact, department))
        return holders[key]

    lifecycle._notify = recent_notify
    lifecycle._users_with = cached_users_with
    lifecycle._now = clock
    routing.unit_at_level = cached_unit
    settings.LINLI_NOTIFY_COPIES = False  # no e-mail/SMS copies of demo notifications
    try:
        yield clock
    finally:
        lifecycle._now, routing.unit_at_level, settings.LINLI_NOTIFY_COPIES = saved
        lifecycle._notify, lifecycle._users_with = saved_notify, users_with


def demo_orders_exist() -> bool:
    return WorkOrder.objects.filter(client=DEMO_CLIENT).exists()


def _stand_in(username, display, role, region, department="") -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, display_name=display)
        user.set_unusable_password()
        user.save()
        RoleAssignment.objects.create(user=user, role=role, region=region, region_path=region.path, department=department)
    return user


class Generator:
    def __init__(self, city: Region, seed: int, clock: Clock):
        self.rng = random.Random(seed)
        self.clock = clock
        self.today = timezone.now()
        self.city = city
        self.grids = list(Region.objects.filter(path__startswith=city.path, level=Level.GRID, valid_to__isnull=True).order_by("path"))
        self.units = {r.path: r for r in Region.objects.filter(path__startswith=city.path, level__lte=Level.COMMUNITY)}
        self.cats = {c.code: c for c in Category.objects.filter(active=True, is_group=False).prefetch_related("attributes")}
        users = {u.username: u for u in User.objects.filter(username__in=["admin", "district1", "street1", "community1", "grid1", "grid2", "dept1", "resident1"])}
        self.users = users
        self.grid_worker, self.community_worker, self.departments = {}, {}, {}
        for ra in RoleAssignment.objects.filter(role__in=[Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.DEPARTMENT_HANDLER],
                                                 region_path__startswith=city.path).select_related("user").order_by("user_id"):
            if ra.role == Role.GRID_WORKER:
                self.grid_worker.setdefault(ra.region_path, ra.user)
            elif ra.role == Role.COMMUNITY_WORKER:
                self.community_worker.setdefault(ra.region_path, ra.user)
            else:
                self.departments.setdefault((ra.department, ra.region_path), ra.user)
        for grid in self.grids:
            if grid.path not in self.grid_worker:
                community = self.unit(grid, Level.COMMUNITY)
                self.grid_worker[grid.path] = _stand_in(f"demo-g{grid.pk}", f"{community.name}{grid.name}网格员", Role.GRID_WORKER, grid)
        for path, unit in self.units.items():
            if unit.level == Level.COMMUNITY and path not in self.community_worker:
                self.community_worker[path] = _stand_in(f"demo-c{unit.pk}", f"{unit.name}工作人员", Role.COMMUNITY_WORKER, unit)
            if unit.level == Level.DISTRICT:
                for department in ("住建局", "城管局"):
                    if not any(d == department and p == path for d, p in self.departments):
                        self.departments[(department, path)] = _stand_in(
                            f"demo-{'zj' if department == '住建局' else 'cg'}{unit.pk}", f"{unit.name}{department}经办人",
                            Role.DEPARTMENT_HANDLER, unit, department)
        people = Resident.objects.filter(region_path__startswith=city.path).values_list("pk", "name", "region_id")
        self.residents: dict[int, list] = {}
        for pk, name, region_id in people.order_by("pk")[:20000]:
            self.residents.setdefault(region_id, []).append((pk, name))
        self.counts: dict[str, int] = {}
        self.street1_path = RoleAssignment.objects.filter(user__username="street1").values_list("region_path", flat=True).first()
        r1 = users.get("resident1")
        self.resident1_grid = Resident.objects.filter(pk=r1.resident_id).values_list("region_id", flat=True).first() if r1 and r1.resident_id else None

    # -------------------------------------------------------------- helpers

    def unit(self, region: Region, level: int) -> Region:
        return self.units[region.path[: Region.steplen * level]]

    def dispatcher(self, order: WorkOrder) -> User | None:
        """Somebody at the desk that holds the order (the street desk: street1 if it is theirs)."""
        level = order.handler_region.level
        if level == Level.GRID:  # a grid's orders are dispatched by its community
            return self.community_worker.get(order.handler_region_path[: Region.steplen * Level.COMMUNITY])
        if level == Level.COMMUNITY:
            return self.community_worker.get(order.handler_region_path)
        if level == Level.STREET and self.street1_path and order.handler_region_path.startswith(self.street1_path):
            return self.users["street1"]
        return None  # the system stands in for other streets' desks

    def department_user(self, order: WorkOrder) -> User | None:
        district = order.region_path[: Region.steplen * Level.DISTRICT]
        return self.departments.get((order.department, district))

    def advance(self, minutes_lo, minutes_hi) -> bool:
        """Move the clock on; False when that would pass the present (the order stops there)."""
        step = dt.timedelta(minutes=self.rng.uniform(minutes_lo, minutes_hi))
        if self.clock.now + step >= self.today - dt.timedelta(minutes=1):
            return False
        self.clock.now += step
        return True

    def point(self, grid: Region):
        if grid.min_lng is None:
            return None, None
        return (round(self.rng.uniform(grid.min_lat + 0.0003, grid.max_lat - 0.0003), 6),
                round(self.rng.uniform(grid.min_lng + 0.0003, grid.max_lng - 0.0003), 6))

    def person(self, grid: Region):
        rows = self.residents.get(grid.pk)
        if rows:
            return self.rng.choice(rows)
        return None, self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def phone(self) -> str:
        return "1" + self.rng.choice("3589") + "".join(self.rng.choice("0123456789") for _ in range(9))

    def weighted(self, pairs) -> str:
        codes = [c for c, _w in pairs if c in self.cats]
        weights = [w for c, w in pairs if c in self.cats]
        return self.rng.choices(codes, weights)[0]

    def attrs(self, code: str) -> dict:
        return {k: self.rng.choice(v) for k, v in ATTRIBUTES.get(code, {}).items()}

    def start_time(self, days_ago: float) -> dt.datetime:
        local = timezone.localtime(self.today - dt.timedelta(days=days_ago))
        hour = self.rng.choice([8, 9, 9, 10, 10, 11, 14, 15, 15, 16, 17, 19, 20])
        return local.replace(hour=hour, minute=self.rng.randrange(60), second=self.rng.randrange(60), microsecond=0)

    def tally(self, key):
        self.counts[key] = self.counts.get(key, 0) + 1

    # -------------------------------------------------------------- one incident or demand

    def report(self, grid: Region, code: str, days_ago: float) -> WorkOrder | None:
        category = self.cats[code]
        self.clock.now = self.start_time(days_ago)
        if self.clock.now >= self.today:
            self.clock.now = self.today - dt.timedelta(minutes=self.rng.randrange(5, 120))
        lat, lng = self.point(grid)
        title_text = self.rng.choice(TEXTS.get(code, [category.name]))
        gw = self.grid_worker.get(grid.path)
        resident1 = self.users.get("resident1")
        roll = self.rng.random()
        if resident1 is not None and grid.pk == self.resident1_grid and roll < 0.45:
            actor, source, name, phone = resident1, Source.PORTAL, "", ""
        elif roll < 0.7 and gw is not None:
            actor, source, name, phone = gw, Source.GRID, "", ""
        else:
            actor, source = None, self.rng.choice([Source.HOTLINE, Source.PORTAL, Source.HOTLINE])
            _pk, name = self.person(grid)
            phone = self.phone()
        order = lifecycle.report(
            actor, category=category, source=source, title=f"{category.name}：{title_text[:30]}", description=title_text,
            region=grid, address="", attributes=self.attrs(code), urgent=code in ("incident.emergency", "safety.gas") or self.rng.random() < 0.05,
            reporter_name=name, reporter_phone=phone,
        )
        WorkOrder.objects.filter(pk=order.pk).update(lat=lat, lng=lng, client=DEMO_CLIENT)
        self.tally("reported")
        return order

    def run_course(self, order: WorkOrder, target: str):
        """Take the order through its steps up to `target` (or until the present)."""
        o = order
        d = self.dispatcher(o)
        fast = o.priority == "urgent"
        if target == "reported" or not self.advance(3, 25 if fast else 50):
            return o
        if target == "voided":
            return lifecycle.void(d, o, note=self.rng.choice(["重复来电，已告知", "不属于受理范围，已告知来电人", "现场核实无此情况"]))
        if target == "duplicate":
            original = WorkOrder.objects.filter(category=o.category, region=o.region, client=DEMO_CLIENT, reported_at__lt=o.reported_at).exclude(pk=o.pk).order_by("-reported_at").first()
            if original is not None:
                return lifecycle.mark_duplicate(d, o, of=original, note="同一问题已在办理")
        if self.rng.random() < 0.08 and o.handler_region.level == Level.GRID:
            o = lifecycle.escalate(self.grid_worker.get(o.handler_region_path), o, note="双方情绪激动，网格内调解不成，上报社区")
            self.tally("escalated")
            d = self.dispatcher(o)
        if o.status == Status.REPORTED:
            o = lifecycle.file(d, o, note="")
        if target == "filed" or not self.advance(5, 20 if fast else 70):
            return o
        if o.department:
            handler = self.department_user(o)
            o = lifecycle.dispatch(d, o, department=o.department, note="请按期处置")
        else:
            handler = self.grid_worker.get(o.region_path[: Region.steplen * Level.GRID]) if self.rng.random() < 0.8 else self.community_worker.get(
                o.region_path[: Region.steplen * Level.COMMUNITY])
            o = lifecycle.dispatch(d, o, assignee=handler, note=self.rng.choice(["", "请尽快处理", "注意安全"]))
        if target == "dispatched" or not self.advance(10, 90 if fast else 240):
            return o
        o = lifecycle.start(handler, o)
        if self.rng.random() < 0.08:
            req = lifecycle.request_more_time(handler, o, kind=RequestKind.EXTENSION, reason="需协调产权单位，申请延期", hours=self.rng.choice([24, 48]))
            if self.advance(10, 60):
                lifecycle.decide(d, req, approve=self.rng.random() < 0.8, note="")
                self.tally("extension")
        if target == "suspended":
            req = lifecycle.request_more_time(handler, o, kind=RequestKind.SUSPENSION, reason="当事人外出，待其返回后处理")
            if self.advance(10, 60):
                lifecycle.decide(d, req, approve=True, note="同意缓办")
            return o
        if target == "in_progress":
            return o
        slow = self.rng.random() < 0.15  # some run past their limit (overdue, supervised)
        if not self.advance(30, 6 * 60 if not slow else 4 * 24 * 60):
            return o
        o = lifecycle.handle(handler, o, note=self.rng.choice(HANDLED_NOTES))
        if target == "handled" or not self.advance(20, 100):
            return o
        verifier = self.verifier(o, handler, d)
        if self.rng.random() < 0.07:
            o = lifecycle.verify(verifier, o, passed=False, note="现场核查仍未整改到位，返工")
            self.tally("rework")
            if not self.advance(60, 600):
                return o
            o = lifecycle.handle(handler, o, note="已重新整改")
            if not self.advance(20, 100):
                return o
        o = lifecycle.verify(verifier, o, passed=True, note="现场核查属实，已整改")
        if target == "verified" or not self.advance(10, 60):
            return o
        o = lifecycle.close(d, o, note="")
        self.tally("closed")
        reporter = o.reporter
        if reporter is not None and reporter.username == "resident1" and self.advance(60, 24 * 60):
            if self.rng.random() < 0.1:
                lifecycle.reopen(reporter, o, reason="问题又出现了，请再来看看")
                self.tally("reopened")
            elif self.rng.random() < 0.85:
                lifecycle.rate(reporter, o, score=self.rng.choices([5, 4, 3, 2], [60, 25, 10, 5])[0],
                              comment=self.rng.choice(["处理很及时", "网格员很负责", "", "还可以再快一点"]))
                self.tally("rated")
        return o

    def target(self, days_ago: float, code: str) -> str:
        if days_ago < 1:
            weights = {"reported": 25, "filed": 20, "dispatched": 20, "in_progress": 20, "handled": 10, "closed": 5}
        elif days_ago < 7:
            weights = {"reported": 4, "filed": 6, "dispatched": 10, "in_progress": 14, "handled": 8, "verified": 4, "closed": 48,
                       "suspended": 2, "voided": 2, "duplicate": 2}
        else:
            weights = {"dispatched": 2, "in_progress": 4, "handled": 1, "verified": 1, "closed": 84, "suspended": 2, "voided": 3,
                       "duplicate": 3}
        return self.rng.choices(list(weights), list(weights.values()))[0]

    # -------------------------------------------------------------- the whole set

    def settle(self, grid: Region, days_ago: float):
        worker = self.grid_worker.get(grid.path)
        code = self.rng.choice([c for c in SETTLE if c in self.cats])
        self.clock.now = self.start_time(days_ago)
        if self.clock.now >= self.today:
            return
        lat, lng = self.point(grid)
        text = self.rng.choice(TEXTS.get(code, [""]))
        o = lifecycle.settle_on_spot(worker, category=self.cats[code], region=grid, title=f"{self.cats[code].name}：{text[:30]}",
                                    description=text, note=self.rng.choice(["现场劝导，当事人已自行清理", "已当场清理完毕", "已劝离并恢复通行"]),
                                    attributes=self.attrs(code))
        WorkOrder.objects.filter(pk=o.pk).update(lat=lat, lng=lng, client=DEMO_CLIENT)
        self.tally("settled_on_spot")

    def verifier(self, order, handler, *others):
        """Who checks the result on site: the grid's worker, else the desk, but never the person
        who handled it."""
        from . import access

        candidates = [self.grid_worker.get(order.region_path[: Region.steplen * Level.GRID]), *others]
        for user in candidates:
            if user is not None and user != handler and access.is_verifier(user, order):
                return user
        return others[0]

    def supervision(self, community: Region, days_ago: float):
        street1 = self.users.get("street1")
        codes = [c for c in self.cats if self.cats[c].kind == Kind.SUPERVISION]
        if not codes or street1 is None:
            return
        self.clock.now = self.start_time(days_ago)
        code = self.rng.choice(codes)
        o = lifecycle.assign_down(street1, category=self.cats[code], region=community, title=f"{self.cats[code].name}：{community.name}督查发现问题",
                                 description="街道督查组检查发现，限期整改并反馈", note="请按期整改并上传整改照片")
        WorkOrder.objects.filter(pk=o.pk).update(client=DEMO_CLIENT)
        self.tally("supervision")
        d = self.dispatcher(o)
        worker = self.community_worker.get(community.path)
        if not self.advance(30, 240):
            return
        o = lifecycle.dispatch(d, o, assignee=worker)
        if days_ago > 5 and self.advance(60, 3 * 24 * 60):
            o = lifecycle.handle(worker, o, note="已按要求整改完毕")
            if self.advance(60, 600):
                o = lifecycle.verify(self.verifier(o, worker, street1), o, passed=True, note="复查合格")
                if self.advance(10, 60):
                    lifecycle.close(d, o)

    def window_application(self, community: Region, days_ago: float):
        clerk = self.community_worker.get(community.path)
        items = [c for c in self.cats.values() if c.kind == Kind.SERVICE and c.materials]
        if clerk is None or not items:
            return
        item = self.rng.choice(items)
        self.clock.now = self.start_time(days_ago)
        if self.clock.now >= self.today:
            self.clock.now = self.today - dt.timedelta(minutes=30)
        grids = [g for g in self.grids if g.path.startswith(community.path)]
        grid = self.rng.choice(grids)
        rows = self.residents.get(grid.pk) or []
        resident = Resident.objects.filter(pk=self.rng.choice(rows)[0]).select_related("region").first() if rows else None
        answers = {}
        for a in item.attributes.all():
            if a.values:
                answers[a.code] = a.values[0]["key"] if a.datatype == "singlevaluelist" else [a.values[0]["key"]]
            elif a.required:
                answers[a.code] = "3" if a.datatype == "number" else "办理需要"
        complete = self.rng.random() < 0.6
        received = list(item.materials) if complete else self.rng.sample(item.materials, k=max(0, len(item.materials) - self.rng.choice([1, 1, 2])))
        o = window.apply(clerk, category=item, resident=resident, applicant_name="" if resident else self.person(grid)[1],
                         applicant_phone="" if resident else self.phone(), region=community, attributes=answers, received=received)
        WorkOrder.objects.filter(pk=o.pk).update(client=DEMO_CLIENT)
        self.tally("window")
        if not complete:
            self.tally("materials_missing")
            if days_ago < 3 or not self.advance(24 * 60, 3 * 24 * 60):
                return
            o = window.accept(clerk, o, item.materials, note="申请人已补齐材料")
        if not self.advance(10, 120):
            return
        o = window.process(clerk, o)
        if days_ago > 2 and self.advance(60, (item.time_limit_days or 1) * 24 * 60):
            window.finish(clerk, o, note="已办结，结果已告知申请人")


def build_demo_orders(*, seed: int = 20240101, orders: int = 300) -> dict:
    """Demo work orders for the demo city (idempotent); returns counts and the time taken."""
    from registry.demo import CITY

    started = time.perf_counter()
    city = Region.objects.filter(code=CITY[0]).first()
    if city is None:
        return {"created": 0, "seconds": 0.0, "note": "no demo city"}
    seed_categories()
    if demo_orders_exist():
        return {"created": 0, "seconds": time.perf_counter() - started}
    with transaction.atomic(), _moving_clock() as clock:
        gen = Generator(city, seed, clock)
        if not gen.grids:
            return {"created": 0, "seconds": 0.0}
        rng = gen.rng
        community1 = RoleAssignment.objects.filter(user__username="community1").first()
        home_grids = [g for g in gen.grids if community1 and g.path.startswith(community1.region_path)]
        n_settle, n_window, n_supervision = orders // 10, orders // 15, orders // 40
        n_reports = orders - n_settle - n_window - n_supervision
        for i in range(n_reports):
            # Half of the orders fall in the demo accounts' community, so its desks are busy.
            grid = rng.choice(home_grids) if home_grids and rng.random() < 0.5 else rng.choice(gen.grids)
            days_ago = DAYS * (rng.random() ** 1.3) if i >= 12 else rng.random() * 0.9
            code = gen.weighted(INCIDENTS if rng.random() < 0.8 else DEMANDS)
            order = gen.report(grid, code, days_ago)
            gen.run_course(order, gen.target(days_ago, code))
        settle_grids = [g for g in gen.grids if g.path in gen.grid_worker]
        for _ in range(n_settle):
            grid = rng.choice(home_grids) if home_grids and rng.random() < 0.6 else rng.choice(settle_grids)
            gen.settle(grid, DAYS * rng.random())
        communities = [u for u in gen.units.values() if u.level == Level.COMMUNITY]
        home = gen.units.get(community1.region_path) if community1 else None
        for i in range(n_window):
            place = home if home is not None and rng.random() < 0.7 else rng.choice(communities)
            gen.window_application(place, rng.random() * 0.5 if i < 4 else DAYS * rng.random() ** 1.5)
        street_communities = [c for c in communities if home is not None and c.path.startswith(home.path[: Region.steplen * Level.STREET])]
        for _ in range(n_supervision):
            gen.supervision(rng.choice(street_communities or communities), 30 * rng.random())
        clock.now = timezone.now()
        timers = lifecycle.check_deadlines(clock.now)
    counts = dict(gen.counts, supervised=timers["supervised"], warned=timers["warned"])
    counts["orders"] = WorkOrder.objects.filter(client=DEMO_CLIENT).count()
    return {"created": counts["orders"], "seconds": time.perf_counter() - started, "counts": counts}


def demo_orders_summary(result: dict) -> str:
    if result.get("note"):
        return f"Demo work orders: {result['note']}."
    if not result.get("created"):
        return "Demo work orders already there."
    c = result["counts"]
    return (f"Demo work orders made in {result['seconds']:.1f} s: {c['orders']} orders, {c.get('closed', 0)} closed, "
            f"{c.get('settled_on_spot', 0)} settled on the spot, {c.get('window', 0)} one-window applications, "
            f"{c.get('supervised', 0)} overdue (督办).")


def build(*, seed: int = 20240101, **_options) -> str:
    """The demo work orders (linli's seed_demo command calls every app's build)."""
    return demo_orders_summary(build_demo_orders(seed=seed))


def finish(**_options) -> None:
    """The dashboards' figures at once, once every app has made its demo orders (the minute job
    keeps them current afterwards)."""
    from .figures import refresh

    refresh()
