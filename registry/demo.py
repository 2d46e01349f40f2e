"""The demo city: a plausible city of places, buildings, households and people, generated.

Two parts. `Synthesizer` makes plain data (no database): estates and buildings, houses with
their uses, households of 1–5 people with relations, names from Faker's zh_CN data with its
surname frequencies, valid ID numbers that agree with birth date and gender, an age pyramid,
residence types, political status, phones, care tags. `build_demo()` writes one demo city
through the fast bulk path, but row for row as the services would write it: region_path copied
onto every row, pinyin and initials, encrypted ID number and phone with blind index and masked
copy, household memberships, household heads, a `registered` event per person and tag rows
carrying the resident's region_path. The benchmark generator (bench/) reuses the synthesizer.

`seed_demo` runs this on every `make run`, so it is idempotent: when the demo city is there it
only makes sure the demo accounts exist.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from itertools import accumulate

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleAssignment, User
from regions import services as region_services
from regions.models import Level, Region

from .models import (
    Building,
    CareTag,
    EventKind,
    House,
    Household,
    HouseholdMembership,
    Organization,
    Relation,
    Resident,
    ResidentEvent,
    ResidentTag,
)
from .services import idnumber, valid_credit_code
from .services.pinyin import name_pinyin

PASSWORD = "linli-demo"

# ------------------------------------------------------------------ the places of the demo city

CITY = ("320500000000", "苏州市")
# district code, name, [(street code, name, [(community code, name, grids)])]
TREE = [
    ("320508000000", "姑苏区", [
        ("320508001000", "平江街道", [("320508001001", "钮家巷社区", 4), ("320508001002", "大儒巷社区", 4),
                                     ("320508001003", "菉葭巷社区", 3)]),
        ("320508002000", "双塔街道", [("320508002001", "定慧寺社区", 4), ("320508002002", "竹辉社区", 3),
                                     ("320508002003", "南园社区", 3)]),
    ]),
    ("320505000000", "虎丘区", [
        ("320505003000", "狮山街道", [("320505003001", "金色社区", 4), ("320505003002", "塔园社区", 3),
                                     ("320505003003", "新狮社区", 3)]),
        ("320505100000", "通安镇", [("320505100001", "华通社区", 3), ("320505100201", "树山村", 3),
                                   ("320505100202", "金墅村", 3)]),
    ]),
]
GRID_NAMES = ["第一网格", "第二网格", "第三网格", "第四网格", "第五网格", "第六网格", "第七网格", "第八网格", "第九网格", "第十网格"]

# Where the city's people are registered (户籍): the districts and counties of the city.
CITY_ADDRESS_CODES = ["320508", "320508", "320508", "320505", "320505", "320506", "320507", "320509", "320583"]
# Floating residents are registered elsewhere (districts and counties of other provinces and of
# northern Jiangsu).
OTHER_ADDRESS_CODES = [
    "340102", "341202", "341321", "341226", "320321", "320882", "321323", "410105", "411302", "412721",
    "411522", "510722", "511002", "500101", "360121", "420111", "421023", "430602", "371302", "370883",
    "130102", "450102", "230102", "610113", "620102", "522121", "330326", "350583",
]
# Hong Kong, Macao and Taiwan residents' residence permits (境外) use these address codes.
OVERSEAS_ADDRESS_CODES = ["810000", "820000", "830000"]

ESTATE_HEADS = ["金色", "翠园", "阳光", "锦绣", "华庭", "东方", "幸福", "和谐", "御景", "香樟", "桂花", "枫桥", "滨湖",
                "清华", "南苑", "北苑", "新城", "怡景", "丽都", "嘉盛", "紫竹", "湖畔", "运河", "桃园", "梅林",
                "景德", "彩香", "三元", "友联", "沧浪", "盘溪", "虹桥", "石湖", "玉山", "春申", "观前", "葑谊"]
ESTATE_TAILS = ["嘉苑", "新村", "花园", "家园", "名邸", "公寓", "雅苑", "华府", "小区", "一村", "二村", "三村", "雅居", "里"]
ROADS = ["人民路", "干将路", "十全街", "凤凰街", "道前街", "金门路", "养育巷", "临顿路", "平江路", "东环路",
         "狮山路", "长江路", "塔园路", "金山路", "竹园路", "何山路", "通浒路", "华金路", "学府路", "珠江路"]

ETHNICITIES = [("汉族", 985), ("回族", 4), ("满族", 3), ("苗族", 2), ("壮族", 2), ("土家族", 2), ("蒙古族", 1), ("彝族", 1)]

SHOPS = ["便利店", "超市", "餐馆", "面馆", "药房", "理发店", "水果店", "五金店", "洗衣店", "早餐店", "烟酒店", "茶馆"]
SOCIAL_ORGS = ["志愿者协会", "老年协会", "文体队", "邻里互助会", "睦邻服务中心"]


@dataclass
class Person:
    name: str
    gender: str
    birth: dt.date
    relation: str
    id_number: str = ""
    phone: str = ""
    residence_type: str = "registered"
    political_status: str = "masses"
    ethnicity: str = "汉族"
    tags: list[str] = field(default_factory=list)  # non-derived tags (derived ones follow age)
    on: dt.date | None = None  # date registered in the household
    surname: str = ""


@dataclass
class HouseholdPlan:
    members: list[Person]
    number: str = ""


@dataclass
class HousePlan:
    unit: int
    room: str
    floor: int
    use: str
    area: float
    household: HouseholdPlan | None = None


@dataclass
class BuildingPlan:
    estate: str
    number: str
    address: str
    floors: int
    units: int
    houses: list[HousePlan] = field(default_factory=list)


@dataclass
class OrgPlan:
    name: str
    kind: str
    credit_code: str
    address: str
    contact_name: str
    contact_phone: str
    employees: int
    building_index: int | None = None


@dataclass
class GridPlan:
    buildings: list[BuildingPlan]
    organizations: list[OrgPlan]

    def households(self):
        for b in self.buildings:
            for h in b.houses:
                if h.household:
                    yield h.household

    def people(self):
        for hh in self.households():
            yield from hh.members


def _weighted(pairs):
    values = [p[0] for p in pairs]
    cum = list(accumulate(p[1] for p in pairs))
    return values, cum


# Owner households by kind (weights in per mille); rented households separately.
OWNER_KINDS = _weighted([
    ("single_young", 80), ("single_elderly", 70), ("young_couple", 80), ("family", 300), ("three_gen", 100),
    ("middle_couple", 120), ("elderly_couple", 130), ("skip_gen", 30), ("adult_child", 90),
])
RENTED_KINDS = _weighted([("single_young", 400), ("young_couple", 250), ("family", 250), ("roommates", 100)])
HOUSE_USES = _weighted([("owner", 720), ("rented", 180), ("vacant", 80)])


class Synthesizer:
    """Plain data for a city's grids, reproducible from a seed."""

    def __init__(self, seed: int = 20240101, today: dt.date | None = None, city_codes=None):
        from faker.providers.person.zh_CN import Provider

        self.rng = random.Random(seed)
        self.today = today or dt.date.today()
        self.city_codes = list(city_codes or CITY_ADDRESS_CODES)
        self.surnames, self.surname_cum = _weighted(list(Provider.last_names.items()))
        self.male = list(Provider.first_names_male)
        self.female = list(Provider.first_names_female)
        # Two-character given names are common; Faker's lists hold one or two characters.
        self.used_ids: set[str] = set()
        self.used_phones: set[str] = set()
        self.estate_names: set[str] = set()
        self.ethnicities, self.ethnicity_cum = _weighted(ETHNICITIES)

    # ---------------------------------------------------------------- people

    def surname(self) -> str:
        return self.rng.choices(self.surnames, cum_weights=self.surname_cum)[0]

    def given(self, gender: str) -> str:
        pool = self.male if gender == "M" else self.female
        given = self.rng.choice(pool)
        if len(given) == 1 and self.rng.random() < 0.55:
            given += self.rng.choice(pool)[0]
        return given

    def birth(self, age_lo: int, age_hi: int) -> dt.date:
        age = self.rng.randint(age_lo, age_hi)
        day = self.rng.randint(0, 364)
        b = self.today - dt.timedelta(days=age * 365 + age // 4 + day)
        return b

    def person(self, relation: str, gender: str, age_lo: int, age_hi: int, surname: str | None = None) -> Person:
        birth = self.birth(age_lo, age_hi)
        surname = surname or self.surname()
        return Person(name=surname + self.given(gender), gender=gender, birth=birth, relation=relation, surname=surname)

    def _age(self, p: Person) -> int:
        t, b = self.today, p.birth
        return t.year - b.year - ((t.month, t.day) < (b.month, b.day))

    def household(self, rented: bool) -> HouseholdPlan:
        rng = self.rng
        values, cum = RENTED_KINDS if rented else OWNER_KINDS
        kind = rng.choices(values, cum_weights=cum)[0]
        male_head = rng.random() < 0.72
        hg, sg = ("M", "F") if male_head else ("F", "M")
        people: list[Person] = []

        def couple(lo, hi):
            head = self.person(Relation.HEAD, hg, lo, hi)
            spouse_age = max(18, self._age(head) + rng.randint(-4, 3) * (1 if male_head else -1))
            spouse = self.person(Relation.SPOUSE, sg, spouse_age, spouse_age)
            return head, spouse

        def children(parents, n, lo_gap=24, hi_gap=34, relation=Relation.CHILD, max_age=None):
            father = next((p for p in parents if p.gender == "M"), parents[0])
            young = min(self._age(p) for p in parents)
            out = []
            for _ in range(n):
                hi = min(young - lo_gap, max_age if max_age is not None else 200)
                lo = max(0, young - hi_gap)
                if hi < lo:
                    hi = lo
                g = rng.choice("MF")
                out.append(self.person(relation, g, lo, hi, surname=father.surname))
            return out

        if kind == "single_young":
            people = [self.person(Relation.HEAD, rng.choice("MF"), 20, 40)]
        elif kind == "single_elderly":
            people = [self.person(Relation.HEAD, "F" if rng.random() < 0.62 else "M", 60, 95)]
        elif kind == "young_couple":
            people = list(couple(24, 36))
        elif kind == "family":
            parents = couple(28, 50)
            n = 1 if rng.random() < 0.6 else 2
            people = list(parents) + children(parents, n, max_age=22)
        elif kind == "three_gen":
            parents = couple(32, 50)
            kids = children(parents, 1, max_age=20)
            head = parents[0]
            old = []
            for g in ("M", "F")[: 1 if rng.random() < 0.45 else 2]:
                age = min(95, self._age(head) + rng.randint(24, 32))
                old.append(self.person(Relation.PARENT, g, age, age,
                                       surname=head.surname if g == "M" and head.gender == "M" else None))
            people = list(parents) + kids + old
        elif kind == "middle_couple":
            people = list(couple(45, 59))
        elif kind == "elderly_couple":
            people = list(couple(60, 90))
        elif kind == "skip_gen":
            grand = couple(56, 76)
            n = 1 if rng.random() < 0.7 else 2
            people = list(grand) + children(grand, n, lo_gap=48, hi_gap=58, relation=Relation.GRANDCHILD, max_age=15)
        elif kind == "adult_child":
            parents = couple(50, 66)
            people = list(parents) + children(parents, 1, max_age=32)
        elif kind == "roommates":
            people = [self.person(Relation.HEAD, rng.choice("MF"), 19, 35)]
            people += [self.person(Relation.TENANT, rng.choice("MF"), 19, 35) for _ in range(rng.randint(1, 2))]
        for p in people:  # nobody is born in the future, nobody is older than 100
            if p.birth > self.today:
                p.birth = self.today - dt.timedelta(days=rng.randint(30, 300))
        hh = HouseholdPlan(members=people)
        self._registration(hh, kind, rented)
        self._tags(hh, kind)
        for p in people:
            self._personal(p)
        return hh

    def _registration(self, hh: HouseholdPlan, kind: str, rented: bool):
        rng = self.rng
        r = rng.random()
        if r < 0.015:
            rtype = "overseas"
        elif (rented and r < 0.85) or (not rented and r < 0.10):
            rtype = "floating"
        else:
            rtype = "registered"
        if rented:
            move_in = self.today - dt.timedelta(days=rng.randint(20, 365 * 6))
        else:
            move_in = self.today - dt.timedelta(days=rng.randint(200, 365 * 25))
        for p in hh.members:
            p.residence_type = rtype
            p.on = max(move_in, p.birth)

    def _tags(self, hh: HouseholdPlan, kind: str):
        rng = self.rng
        members = hh.members
        ages = [self._age(p) for p in members]
        if all(a >= 60 for a in ages):
            if len(members) == 1:
                members[0].tags.append("living_alone")
            if rng.random() < 0.75:
                for p in members:
                    p.tags.append("empty_nest")
            if len(members) == 2 and rng.random() < 0.01:
                for p in members:
                    p.tags.append("shidu")
        if kind == "skip_gen" and rng.random() < 0.45:
            for p, a in zip(members, ages, strict=True):
                if p.relation == Relation.GRANDCHILD and a < 16:
                    p.tags.append("left_behind")
        registered = members[0].residence_type == "registered"
        if registered and kind == "single_elderly" and rng.random() < 0.12:
            members[0].tags.append("tekun")
        elif registered and rng.random() < 0.028:
            for p in members:
                p.tags.append("dibao")
        for p, a in zip(members, ages, strict=True):
            chance = 0.01 if a < 18 else 0.035 if a < 60 else 0.09 if a < 80 else 0.18
            if rng.random() < chance:
                p.tags.append("disabled")
                if rng.random() < 0.2:
                    p.tags.append("severe_disabled")
            if p.gender == "M" and a >= 35 and rng.random() < 0.015:
                p.tags.append("veteran")
            if 18 <= a < 65 and rng.random() < 0.002:
                p.tags.append(rng.choice(["correction", "released", "drug", "mental", "mental", "petitioner"]))

    def _personal(self, p: Person):
        rng = self.rng
        age = self._age(p)
        if p.residence_type == "overseas":
            area = rng.choice(OVERSEAS_ADDRESS_CODES)
        elif p.residence_type == "floating":
            area = rng.choice(OTHER_ADDRESS_CODES)
        else:
            area = rng.choice(self.city_codes)
        seq = rng.randint(0, 499)
        for i in range(500):
            number = idnumber.make(area, p.birth, p.gender, (seq + i) % 500)
            if number not in self.used_ids:
                break
        else:  # every sequence taken for that day and place: move the birthday by a day
            p.birth -= dt.timedelta(days=1)
            return self._personal(p)
        self.used_ids.add(number)
        p.id_number = number
        chance = 0.0 if age < 12 else 0.25 if age < 18 else 0.95 if age < 70 else 0.75 if age < 80 else 0.5
        if rng.random() < chance:
            p.phone = self.phone()
        if 14 <= age <= 28 and rng.random() < 0.30:
            p.political_status = "cyl"
        elif age >= 18:
            r = rng.random()
            cpc = 0.12 if age >= 30 else 0.05
            if r < cpc:
                p.political_status = "cpc"
            elif r < cpc + 0.004 and age <= 40:
                p.political_status = "cpc_probationary"
            elif r < cpc + 0.007:
                p.political_status = "democratic"
            elif r < cpc + 0.009:
                p.political_status = "non_partisan"
        p.ethnicity = rng.choices(self.ethnicities, cum_weights=self.ethnicity_cum)[0]

    def phone(self) -> str:
        prefixes = ("133", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "177", "180",
                    "181", "182", "186", "187", "188", "189", "191", "199")
        while True:
            number = self.rng.choice(prefixes) + f"{self.rng.randint(0, 99_999_999):08d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    # ---------------------------------------------------------------- places

    def estate(self) -> str:
        for _ in range(200):
            name = self.rng.choice(ESTATE_HEADS) + self.rng.choice(ESTATE_TAILS)
            if name not in self.estate_names:
                self.estate_names.add(name)
                return name
        name = f"{self.rng.choice(ESTATE_HEADS)}{len(self.estate_names)}{self.rng.choice(ESTATE_TAILS)}"
        self.estate_names.add(name)
        return name

    def grid(self, residents: int, area_code: str = "320508") -> GridPlan:
        """Buildings of one grid filled with households until exactly `residents` people live there."""
        rng = self.rng
        estate = self.estate()
        road = rng.choice(ROADS)
        road_no = rng.randint(1, 300)
        buildings: list[BuildingPlan] = []
        people = 0
        while people < residents:
            floors = rng.choice([6, 6, 6, 7, 11, 12, 18])
            floors = floors if floors != 12 else rng.randint(8, 17)
            units = rng.randint(2, 4)
            b = BuildingPlan(estate=estate, number=str(len(buildings) + 1), address=f"{road}{road_no}号",
                             floors=floors, units=units)
            buildings.append(b)
            for unit in range(1, units + 1):
                for floor in range(1, floors + 1):
                    for door in (1, 2):
                        if people >= residents:
                            break
                        use = rng.choices(HOUSE_USES[0], cum_weights=HOUSE_USES[1])[0]
                        if floor == 1 and rng.random() < 0.06:
                            use = "commercial"
                        area = round(rng.uniform(55, 140), 2)
                        house = HousePlan(unit=unit, room=f"{floor}{door:02d}", floor=floor, use=use, area=area)
                        if use in ("owner", "rented"):
                            hh = self.household(rented=use == "rented")
                            room_left = residents - people
                            if len(hh.members) > room_left:
                                hh.members = hh.members[:room_left]
                            people += len(hh.members)
                            house.household = hh
                        b.houses.append(house)
        orgs = self.organizations(buildings, area_code)
        return GridPlan(buildings=buildings, organizations=orgs)

    def credit_code(self, authority: str, kind: str, area_code: str) -> str:
        """A unified social credit code (GB 32100) with a valid organisation code (GB 11714) inside."""
        body = f"{self.rng.randint(10_000_000, 99_999_999)}"
        w = (3, 7, 9, 10, 5, 8, 4, 2)
        c = 11 - sum(int(d) * x for d, x in zip(body, w, strict=True)) % 11
        org_code = body + ("X" if c == 10 else "0" if c == 11 else str(c))
        first17 = authority + kind + area_code + org_code
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
        total = sum(alphabet.index(ch) * wt for ch, wt in zip(first17, weights, strict=True))
        code = first17 + alphabet[(31 - total % 31) % 31]
        assert valid_credit_code(code)
        return code

    def organizations(self, buildings: list[BuildingPlan], area_code: str) -> list[OrgPlan]:
        rng = self.rng
        estate = buildings[0].estate
        address = buildings[0].address
        head = estate[:2]
        orgs = []

        def add(name, kind, authority, type_, employees, building_index=None):
            contact = self.person(Relation.OTHER, rng.choice("MF"), 25, 60)
            orgs.append(OrgPlan(name=name, kind=kind, credit_code=self.credit_code(authority, type_, area_code),
                                address=address, contact_name=contact.name, contact_phone=self.phone(),
                                employees=employees, building_index=building_index))

        for shop in rng.sample(SHOPS, rng.randint(2, 5)):
            owner = self.surname()
            add(f"{head}{owner}记{shop}", "business", "9", "2" if rng.random() < 0.7 else "1", rng.randint(1, 12), 0)
        add(f"苏州{estate}物业管理有限公司", "property", "9", "1", rng.randint(8, 40))
        add(f"{head}{rng.choice(SOCIAL_ORGS)}", "social", "5", "2", rng.randint(3, 30))
        if rng.random() < 0.3:
            add(f"{head}{rng.choice(['小学', '幼儿园', '实验小学'])}", "school", "1", "2", rng.randint(30, 120))
        if rng.random() < 0.3:
            add(f"{head}社区卫生服务站", "hospital", "1", "2", rng.randint(5, 25))
        return orgs


# ------------------------------------------------------------------ geometry

def rectangle(lng: float, lat: float, w: float, h: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[lng, lat], [lng + w, lat], [lng + w, lat + h], [lng, lat + h], [lng, lat]]]}


def layout(grid_counts: list[int], *, lng0: float = 120.52, lat0: float = 31.24, columns: int | None = None,
           block_w: float = 0.024, block_h: float = 0.012) -> list[tuple[dict, list[dict]]]:
    """Rectangles tiling an area: communities as blocks in rows, each split into vertical strips
    for its grids. Returns (community boundary, [grid boundaries]) per community."""
    columns = columns or max(1, round(len(grid_counts) ** 0.5 * 1.5))
    out = []
    for i, n in enumerate(grid_counts):
        col, row = i % columns, i // columns
        x, y = round(lng0 + col * block_w, 6), round(lat0 + row * block_h, 6)
        w = block_w / n
        grids = [rectangle(round(x + k * w, 6), y, round(w, 6), block_h) for k in range(n)]
        out.append((rectangle(x, y, block_w, block_h), grids))
    return out


# ------------------------------------------------------------------ writing the demo city

def demo_exists() -> bool:
    city = Region.objects.filter(code=CITY[0]).first()
    return city is not None and Resident.objects.filter(region_path__startswith=city.path).exists()


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` split into `parts` amounts of ±20% around the mean, summing exactly to total."""
    weights = [rng.uniform(0.8, 1.2) for _ in range(parts)]
    s = sum(weights)
    shares = [int(total * w / s) for w in weights]
    for i in range(total - sum(shares)):
        shares[i % parts] += 1
    return shares


def build_tree(boundaries=True) -> dict:
    """The demo city's tree through the region services; returns {"city", "districts", "streets",
    "communities", "grids"} (lists of Regions, grids in community order)."""
    counts = [n for _, _, streets in TREE for _, _, comms in streets for _, _, n in comms]
    shapes = layout(counts, columns=4)
    city = region_services.create_region(None, parent=None, code=CITY[0], name=CITY[1], valid_from=dt.date(2000, 1, 1))
    out = {"city": city, "districts": [], "streets": [], "communities": [], "grids": []}
    i = 0
    for dcode, dname, streets in TREE:
        district = region_services.create_region(None, parent=city, code=dcode, name=dname, valid_from=dt.date(2000, 1, 1))
        out["districts"].append(district)
        for scode, sname, comms in streets:
            street = region_services.create_region(None, parent=district, code=scode, name=sname, valid_from=dt.date(2000, 1, 1))
            out["streets"].append(street)
            for ccode, cname, n in comms:
                cshape, gshapes = shapes[i]
                i += 1
                community = region_services.create_region(
                    None, parent=street, code=ccode, name=cname, boundary=cshape if boundaries else None,
                    valid_from=dt.date(2000, 1, 1),
                )
                out["communities"].append(community)
                for k in range(n):
                    out["grids"].append(region_services.create_region(
                        None, parent=community, code="", name=GRID_NAMES[k],
                        boundary=gshapes[k] if boundaries else None, valid_from=dt.date(2000, 1, 1),
                    ))
    return out


class Writer:
    """Bulk-writes grid plans as the registry services would write them, one row at a time."""

    BATCH = 2000

    def __init__(self, today: dt.date | None = None):
        self.today = today or timezone.localdate()
        self.tags = {t.code: t for t in CareTag.objects.filter(active=True)}
        self.age_tags = [t for t in self.tags.values() if t.min_age is not None or t.max_age is not None]

    def write(self, grid: Region, plan: GridPlan) -> dict:
        path, rid = grid.path, grid.pk
        buildings = [Building(region_id=rid, region_path=path, estate=b.estate, number=b.number, address=b.address,
                              floors=b.floors, units=b.units) for b in plan.buildings]
        Building.objects.bulk_create(buildings, batch_size=self.BATCH)
        houses, hh_plans = [], []
        for b, bp in zip(buildings, plan.buildings, strict=True):
            for hp in bp.houses:
                houses.append(House(region_id=rid, region_path=path, building=b, unit=hp.unit, room=hp.room,
                                    floor=hp.floor, use=hp.use, area=hp.area))
                hh_plans.append(hp.household)
        House.objects.bulk_create(houses, batch_size=self.BATCH)
        households, members = [], []
        for house, hhp in zip(houses, hh_plans, strict=True):
            if hhp is None:
                continue
            hh = Household(region_id=rid, region_path=path, house=house, number=hhp.number)
            households.append(hh)
            members.append(hhp.members)
        Household.objects.bulk_create(households, batch_size=self.BATCH)
        residents, plans = [], []
        for hh, people in zip(households, members, strict=True):
            for p in people:
                r = Resident(region_id=rid, region_path=path, name=p.name, gender=p.gender, birth_date=p.birth,
                             ethnicity=p.ethnicity, residence_type=p.residence_type,
                             political_status=p.political_status, household=hh, relation=p.relation)
                r.pinyin, r.initials = name_pinyin(p.name)
                r.set_id_number(p.id_number)
                if p.phone:
                    r.set_phone(p.phone)
                residents.append(r)
                plans.append(p)
        Resident.objects.bulk_create(residents, batch_size=self.BATCH)
        heads = []
        by_household = {}
        for r in residents:
            if r.relation == Relation.HEAD:
                by_household[r.household_id] = r.pk
        for hh in households:
            hh.head_id = by_household.get(hh.pk)
            heads.append(hh)
        Household.objects.bulk_update(heads, ["head"], batch_size=self.BATCH)
        HouseholdMembership.objects.bulk_create(
            [HouseholdMembership(household_id=r.household_id, resident_id=r.pk, relation=r.relation, start_date=p.on)
             for r, p in zip(residents, plans, strict=True)], batch_size=self.BATCH)
        ResidentEvent.objects.bulk_create(
            [ResidentEvent(resident_id=r.pk, kind=EventKind.REGISTERED, date=p.on, to_household_id=r.household_id)
             for r, p in zip(residents, plans, strict=True)], batch_size=self.BATCH)
        tags = []
        for r, p in zip(residents, plans, strict=True):
            age = r.age(self.today)
            for t in self.age_tags:
                if (t.min_age is None or age >= t.min_age) and (t.max_age is None or age <= t.max_age):
                    tags.append(ResidentTag(resident_id=r.pk, tag=t, start_date=self.today, region_path=path))
            for code in dict.fromkeys(p.tags):
                tag = self.tags.get(code)
                if tag is not None:
                    start = max(p.on, self.today - dt.timedelta(days=365 * 3))
                    tags.append(ResidentTag(resident_id=r.pk, tag=tag, start_date=start, region_path=path))
        ResidentTag.objects.bulk_create(tags, batch_size=self.BATCH)
        orgs = []
        for op in plan.organizations:
            o = Organization(region_id=rid, region_path=path, name=op.name, kind=op.kind, credit_code=op.credit_code,
                             address=op.address, contact_name=op.contact_name, employees=op.employees,
                             building=buildings[op.building_index] if op.building_index is not None else None)
            o.set_contact_phone(op.contact_phone)
            orgs.append(o)
        Organization.objects.bulk_create(orgs, batch_size=self.BATCH)
        return {"buildings": len(buildings), "houses": len(houses), "households": len(households),
                "residents": len(residents), "tags": len(tags), "organizations": len(orgs)}


DEMO_ACCOUNTS = [
    # username, role, where ("city", "district", "street", "community", "grid1", "grid2"), display name, department
    ("admin", Role.CITY_ADMIN, "city", "市民政局管理员", ""),
    ("district1", Role.DISTRICT_ADMIN, "district", "姑苏区管理员", ""),
    ("street1", Role.STREET_OFFICER, "street", "平江街道干部", ""),
    ("community1", Role.COMMUNITY_WORKER, "community", "钮家巷社区工作者", ""),
    ("grid1", Role.GRID_WORKER, "grid1", "第一网格网格员", ""),
    ("grid2", Role.GRID_WORKER, "grid2", "第二网格网格员", ""),
    ("dept1", Role.DEPARTMENT_HANDLER, "district", "区住建局经办人", "住建局"),
]


def _demo_places() -> dict | None:
    city = Region.objects.filter(code=CITY[0]).first()
    if city is None:
        return None
    district = Region.objects.get(code=TREE[0][0])
    street = Region.objects.get(code=TREE[0][2][0][0])
    community = Region.objects.get(code=TREE[0][2][0][2][0][0])
    grids = list(Region.objects.filter(level=Level.GRID, path__startswith=community.path).order_by("path")[:2])
    return {"city": city, "district": district, "street": street, "community": community,
            "grid1": grids[0], "grid2": grids[1]}


def ensure_accounts() -> list[str]:
    """Create the demo accounts that are missing (existing ones are left as they are).
    Returns the usernames created."""
    places = _demo_places()
    if places is None:
        return []
    existing = set(User.objects.filter(username__in=[a[0] for a in DEMO_ACCOUNTS] + ["resident1"])
                   .values_list("username", flat=True))
    created = []
    for username, role, where, display, department in DEMO_ACCOUNTS:
        if username in existing:
            continue
        region = places[where]
        superuser = username == "admin"
        user = User.objects.create_user(username=username, password=PASSWORD, display_name=display,
                                        is_staff=superuser, is_superuser=superuser)
        RoleAssignment.objects.create(user=user, role=role, region=region, region_path=region.path, department=department)
        created.append(username)
    if "resident1" not in existing:
        grid1 = places["grid1"]
        resident = (Resident.objects.filter(region=grid1, relation=Relation.HEAD, account__isnull=True)
                    .exclude(phone_enc="").order_by("pk").first())
        if resident is not None:
            user = User.objects.create_user(username="resident1", password=PASSWORD, display_name=resident.name,
                                            resident=resident)
            RoleAssignment.objects.create(user=user, role=Role.RESIDENT, region=grid1, region_path=grid1.path)
            created.append("resident1")
    return created


@dataclass
class Summary:
    created: bool
    seconds: float
    counts: dict
    accounts: list[str]


def build_demo(*, residents: int = 10_000, seed: int = 20240101, progress=None) -> Summary:
    """Build the demo city unless it is there; always make sure the demo accounts exist."""
    started = time.perf_counter()
    if demo_exists():
        with transaction.atomic():
            accounts = ensure_accounts()
        return Summary(False, time.perf_counter() - started, {}, accounts)
    with transaction.atomic():
        tree = build_tree()
        grids = tree["grids"]
        synth = Synthesizer(seed=seed, today=timezone.localdate())
        writer = Writer(today=timezone.localdate())
        totals: dict[str, int] = {}
        for grid, n in zip(grids, _split(residents, len(grids), synth.rng), strict=True):
            plan = synth.grid(n, area_code=grid.code[:6])
            for key, value in writer.write(grid, plan).items():
                totals[key] = totals.get(key, 0) + value
            if progress:
                progress(grid, totals)
        totals["regions"] = Region.objects.filter(path__startswith=tree["city"].path).count()
        accounts = ensure_accounts()
    return Summary(True, time.perf_counter() - started, totals, accounts)


def build(*, residents: int = 10_000, seed: int = 20240101, progress=None, **_options) -> str:
    """The demo city's people and accounts (linli's seed_demo command calls every app's build)."""
    summary = build_demo(residents=residents, seed=seed, progress=progress)
    lines = []
    if summary.created:
        c = summary.counts
        lines.append(
            f"Demo city built in {summary.seconds:.1f} s: {c['regions']} places, {c['buildings']} buildings, "
            f"{c['houses']} houses, {c['households']} households, {c['residents']} residents, "
            f"{c['tags']} care tags, {c['organizations']} organisations."
        )
    else:
        lines.append(f"Demo city already there ({summary.seconds:.2f} s).")
    if summary.accounts:
        lines.append(f"Demo accounts created: {', '.join(summary.accounts)} (password {PASSWORD}).")
    return "\n".join(lines)
