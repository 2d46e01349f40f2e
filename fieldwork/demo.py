"""Demo field work for the demo city: 60 days of patrols with their routes, visits to most
households (some finding work orders), must-attend arrivals, a public notice per grid and
residents' ratings; then the due lists and the compliance figures are computed.

The grids of the demo accounts' community (grid1, grid2 sign in there) get their field work
through the services (fieldwork.services: patrols, record_visit, attend, evaluations), so every
page shows rows made the way a phone makes them. The other grids get plain rows of the same
shape in bulk (thousands of visits through the services would add half a minute to every
`make run`); the due lists and figures are computed from all of them afterwards, exactly as
for real rows. Deterministic (seeded) and idempotent: when the city has patrols the second run
only returns.

Time: the services refuse times in the future and more than 60 days ago, so the generator stays
inside [58 days ago, now] and passes every time explicitly.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleAssignment
from regions.models import Level, Region
from registry.models import Household, Resident

from .models import Patrol, PatrolPoint, PatrolStatus, Visit, VisitKind, WorkerRating

DAYS = 58
NOTES = [
    "了解家庭近况，身体都好", "宣传防诈骗知识", "提醒燃气安全和电动车不进楼道", "登记家庭成员变化", "询问有无生活困难",
    "讲解医保缴费和高龄津贴政策", "查看独居老人居住安全", "反映的问题已记下，跟进处理",
]  # fmt: skip
FINDINGS = [
    ("env.litter", "楼道口堆放垃圾", "走访时发现楼道口垃圾堆放两天未清运"),
    ("safety.ebike", "电动车楼道充电", "走访时发现住户在楼道飞线给电动车充电"),
    ("facility.streetlight", "路灯不亮", "住户反映楼前两盏路灯晚上不亮"),
    ("demand.property", "物业保洁不及时", "住户反映物业对楼道卫生打扫不及时"),
]
DUTIES = "负责本网格人口、房屋、单位等基础信息采集；日常巡查，发现问题及时上报；走访入户，关心困难家庭和独居老人；调解邻里纠纷。"
COMMITMENT = "有求必应、有问必答；接到群众诉求当日联系，急事随叫随到；每季度至少走访每户两次。"
SCORES = [5, 5, 5, 4, 4, 4, 3, 5, 4, 2]


@dataclass
class Summary:
    created: bool = False
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)
    steps: dict = field(default_factory=dict)

    def __str__(self):
        if not self.created:
            return f"Demo field work already there ({self.seconds:.2f} s)."
        c = self.counts
        return (
            f"Demo field work made in {self.seconds:.1f} s: {c.get('patrols', 0)} patrols ({c.get('points', 0)} points), "
            f"{c.get('visits', 0)} visits ({c.get('orders', 0)} finding work orders), {c.get('attendances', 0)} must-attend arrivals, "
            f"{c.get('notices', 0)} grid notices, {c.get('ratings', 0)} ratings."
        )


def _city() -> Region | None:
    return Region.objects.filter(depth=1).order_by("path").first()


def demo_exists(city: Region) -> bool:
    return Patrol.objects.filter(region_path__startswith=city.path).exists()


class _Builder:
    def __init__(self, city: Region, seed: int):
        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.city = city
        self.grids = list(Region.objects.filter(path__startswith=city.path, level=Level.GRID, valid_to__isnull=True).order_by("path"))
        self.worker: dict[int, object] = {}
        for ra in RoleAssignment.objects.filter(role=Role.GRID_WORKER, region__in=self.grids).select_related("user").order_by("user_id"):
            # A demo account (who can sign in) before a stand-in.
            current = self.worker.get(ra.region_id)
            if current is None or (current.username.startswith("demo-") and not ra.user.username.startswith("demo-")):
                self.worker[ra.region_id] = ra.user
        demo_grids = {ra.region_id for ra in RoleAssignment.objects.filter(role=Role.GRID_WORKER, user__username__in=["grid1", "grid2"])}
        self.service_grids = demo_grids
        self.counts = dict.fromkeys(("patrols", "points", "visits", "orders", "attendances", "notices", "ratings"), 0)

    # ------------------------------------------------------------ helpers

    def at(self, day: dt.date, hour: float) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time())) + dt.timedelta(hours=hour)

    def box(self, grid: Region):
        if grid.min_lat is None:
            return None
        mlat, mlng = (grid.max_lat - grid.min_lat) * 0.1, (grid.max_lng - grid.min_lng) * 0.1
        return grid.min_lat + mlat, grid.min_lng + mlng, grid.max_lat - mlat, grid.max_lng - mlng

    def route(self, grid: Region, start: dt.datetime, end: dt.datetime) -> list[dict]:
        """A walk inside the grid: a point every 10-15 minutes, never faster than a bicycle."""
        box = self.box(grid)
        if box is None:
            return []
        lat, lng = self.rng.uniform(box[0], box[2]), self.rng.uniform(box[1], box[3])
        out, t = [], start
        while t <= end:
            out.append({"at": t, "lat": round(lat, 6), "lng": round(lng, 6), "accuracy": round(self.rng.uniform(5, 30), 1)})
            t += dt.timedelta(minutes=self.rng.uniform(10, 15))
            # Up to ~300 m between points (well under the speed limit).
            lat = min(box[2], max(box[0], lat + self.rng.uniform(-0.0025, 0.0025)))
            lng = min(box[3], max(box[1], lng + self.rng.uniform(-0.0025, 0.0025)))
        return out

    def patrol_days(self):
        """(day, start, end) of each patrol of one worker over the last DAYS days."""
        for back in range(DAYS, -1, -1):
            day = self.today - dt.timedelta(days=back)
            if day.weekday() == 6 or (day.weekday() == 5 and self.rng.random() < 0.7) or self.rng.random() < 0.08:
                continue
            start = self.at(day, self.rng.uniform(8.0, 9.5))
            end = start + dt.timedelta(hours=self.rng.choice([3.2, 3.6, 4.1, 4.3, 4.6, 5.0, 4.2, 3.9]) + self.rng.uniform(0, 0.3))
            if end > self.now - dt.timedelta(minutes=5):
                continue
            yield day, start, end

    # ------------------------------------------------------------ patrols

    def patrols(self):
        from .services import patrols as svc

        bulk, bulk_points = [], []
        for grid in self.grids:
            user = self.worker.get(grid.pk)
            if user is None:
                continue
            for _day, start, end in self.patrol_days():
                points = self.route(grid, start, end)
                if grid.pk in self.service_grids:
                    first = points[0] if points else {}
                    p = svc.start_patrol(user, grid=grid, started_at=start, lat=first.get("lat"), lng=first.get("lng"))
                    if len(points) > 1:
                        svc.add_points(user, p, [{**pt, "at": pt["at"].isoformat()} for pt in points[1:]])
                    svc.end_patrol(user, p, ended_at=end)
                    self.counts["points"] += len(points)
                else:
                    p = Patrol(worker=user, status=PatrolStatus.ENDED, started_at=start, ended_at=end,
                               seconds=int((end - start).total_seconds()), point_count=len(points),
                               distance_m=int(len(points) * self.rng.uniform(150, 260)))  # fmt: skip
                    p.set_region(grid)
                    bulk.append((p, points))
                self.counts["patrols"] += 1
        Patrol.objects.bulk_create([p for p, _pts in bulk], batch_size=500)
        for p, points in bulk:
            bulk_points.extend(PatrolPoint(patrol=p, **pt) for pt in points)
        PatrolPoint.objects.bulk_create(bulk_points, batch_size=2000)
        self.counts["points"] += len(bulk_points)

    # ------------------------------------------------------------ visits

    def visit_times(self, n: int):
        out = []
        for _i in range(n):
            back = self.rng.randint(0, DAYS)
            day = self.today - dt.timedelta(days=back)
            when = self.at(day, self.rng.uniform(9.0, 17.5))
            if when > self.now - dt.timedelta(minutes=5):
                when = self.now - dt.timedelta(minutes=self.rng.randint(10, 600))
            out.append(when)
        return sorted(out)

    def visits(self):
        from workorders.demo import _moving_clock

        from .services import record_visit

        households = list(
            Household.objects.filter(region_path__startswith=self.city.path, dissolved_on__isnull=True).values_list("pk", "region_id", "region_path")
        )
        members: dict[int, list[int]] = {}
        for pk, hh in Resident.objects.filter(region_path__startswith=self.city.path, household_id__isnull=False).values_list("pk", "household_id"):
            members.setdefault(hh, []).append(pk)
        bulk = []
        with _moving_clock() as clock:
            for hh, grid_id, path in households:
                user = self.worker.get(grid_id)
                if user is None or self.rng.random() < 0.12:  # most households, not all
                    continue
                for when in self.visit_times(self.rng.choice([1, 1, 2, 2, 2, 3])):
                    nobody = self.rng.random() < 0.1
                    met = [] if nobody else self.rng.sample(members.get(hh, []), k=min(len(members.get(hh, [])), self.rng.randint(1, 2)))
                    note = self.rng.choice(NOTES)
                    kind = self.rng.choice([VisitKind.ROUTINE] * 4 + [VisitKind.CARE])
                    if grid_id in self.service_grids:
                        finding = {}
                        if not nobody and self.rng.random() < 0.06:
                            code, title, text = self.rng.choice(FINDINGS)
                            finding = {"findings": text, "finding_category": code, "finding_title": title}
                        clock.now = when
                        try:
                            v = record_visit(user, household=hh, visited_at=when, kind=kind, met=met, nobody_home=nobody and not met,
                                             notes=note, **finding)  # fmt: skip
                        except Exception:  # noqa: BLE001 - a missing category: the visit without its finding
                            if not finding:
                                raise
                            v = record_visit(user, household=hh, visited_at=when, kind=kind, met=met, notes=note)
                        self.counts["orders"] += 1 if v.order_id else 0
                    else:
                        v = Visit(household_id=hh, worker=user, visited_at=when, kind=kind, nobody_home=nobody, notes=note,
                                  region_id=grid_id, region_path=path)  # fmt: skip
                        v.demo_met = met
                        bulk.append(v)
                    self.counts["visits"] += 1
        Visit.objects.bulk_create(bulk, batch_size=1000)
        through = Visit.met.through
        through.objects.bulk_create([through(visit_id=v.pk, resident_id=r) for v in bulk for r in v.demo_met], batch_size=2000)

    # ------------------------------------------------------------ must attend, notices, ratings

    def attendances(self):
        from workorders.models import Status, WorkOrder

        from .services import attend

        since = self.now - dt.timedelta(days=DAYS)
        orders = WorkOrder.objects.filter(
            region_path__startswith=self.city.path, category__must_attend=True, reported_at__gte=since, attendance__isnull=True
        ).exclude(status__in=[Status.VOIDED, Status.DUPLICATE]).select_related("region")
        for order in orders:
            grid = order.region if order.region.level == Level.GRID else None
            user = self.worker.get(grid.pk) if grid else None
            if user is None or self.rng.random() < 0.1:
                continue
            arrived = min(order.reported_at + dt.timedelta(minutes=self.rng.uniform(6, 45)), self.now - dt.timedelta(seconds=30))
            attend.arrive(user, order, arrived_at=arrived, note="已到现场")
            self.counts["attendances"] += 1

    def notices(self):
        from .services import evaluations

        for i, grid in enumerate(self.grids):
            user = self.worker.get(grid.pk)
            if user is None or evaluations.notice_of(grid) is not None:
                continue
            evaluations.update_notice(user, grid, duties=DUTIES, commitment=COMMITMENT, service_hours="周一至周五 8:30-17:30，急事随时",
                                      phone=f"1390000{i:04d}")  # fmt: skip
            self.counts["notices"] += 1

    def ratings(self):
        from .services import evaluations

        rnd = evaluations.current_round(self.today)
        if rnd is None:
            return
        keep_free = set(Resident.objects.filter(account__isnull=False).values_list("pk", flat=True))  # residents who sign in rate themselves
        rows = []
        people = Resident.objects.filter(region_path__startswith=self.city.path).values_list("pk", "region_id", "region_path")
        for pk, grid_id, path in people:
            user = self.worker.get(grid_id)
            if user is None or pk in keep_free or self.rng.random() > 0.12:
                continue
            rows.append(WorkerRating(round=rnd, worker=user, resident_id=pk, score=self.rng.choice(SCORES), region_id=grid_id, region_path=path,
                                     comment=self.rng.choice(["", "", "很负责", "经常来看望老人", "有事找他很快就来"])))  # fmt: skip
        WorkerRating.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        self.counts["ratings"] = len(rows)


def build(*, seed: int = 20240101, **_options) -> Summary:
    """Make the demo field work once (see the module docstring); returns what it made."""
    from . import figures
    from .services import dues

    t = time.perf_counter()
    city = _city()
    if city is None or demo_exists(city):
        return Summary(False, time.perf_counter() - t)
    b = _Builder(city, seed)
    steps = {}

    def step(name, fn, *args):
        s = time.perf_counter()
        fn(*args)
        steps[name] = round(time.perf_counter() - s, 2)

    with transaction.atomic():
        step("dues", dues.recompute_all, b.today)
        step("patrols", b.patrols)
        step("visits", b.visits)
        step("attend", b.attendances)
        step("notices", b.notices)
        step("ratings", b.ratings)
        step("dues2", dues.recompute_all, b.today)
    step("figures", figures.rebuild)
    return Summary(True, time.perf_counter() - t, b.counts, steps)
