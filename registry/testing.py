"""A small world for tests: one city down to three grids, with the demo roles.

grid1 and grid2 are sibling grids in community1; grid3 lies in a sibling community. Each grid
has a building, houses, households and residents, so scope tests have rows on every side.
"""

import datetime as dt
from types import SimpleNamespace

from accounts.models import Role
from accounts.testing import PASSWORD, make_user  # noqa: F401 (tests take both from here)
from regions import services as rs

from . import services as reg
from .services import idnumber


def add_person(household, name, birth, gender, seq, relation="head", phone="", **data):
    number = idnumber.make("320508", birth, gender, seq)
    payload = {"name": name, "id_number": number, **data}
    if phone:
        payload["phone"] = phone
    return reg.register_resident(None, household=household, data=payload, relation=relation, on=dt.date(2020, 1, 1))


def build_world() -> SimpleNamespace:
    w = SimpleNamespace()
    w.city = rs.create_region(None, parent=None, code="320500000000", name="苏州市")
    w.district = rs.create_region(None, parent=w.city, code="320508000000", name="姑苏区")
    w.street = rs.create_region(None, parent=w.district, code="320508001000", name="平江街道")
    w.community = rs.create_region(None, parent=w.street, code="320508001001", name="钮家巷社区")
    w.community2 = rs.create_region(None, parent=w.street, code="320508001002", name="大儒巷社区")
    square = lambda x, y: {"type": "Polygon", "coordinates": [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]]}  # noqa: E731
    w.grid1 = rs.create_region(None, parent=w.community, code="", name="第一网格", boundary=square(120.60, 31.30))
    w.grid2 = rs.create_region(None, parent=w.community, code="", name="第二网格", boundary=square(120.61, 31.30))
    w.grid3 = rs.create_region(None, parent=w.community2, code="", name="第三网格", boundary=square(120.62, 31.30))

    seq = iter(range(1, 400))
    for i, grid in enumerate((w.grid1, w.grid2, w.grid3), start=1):
        b = reg.create_building(None, grid=grid, estate=f"测试小区{i}", number="1", floors=6, units=2)
        h1 = reg.create_house(None, building=b, unit=1, room="101")
        h2 = reg.create_house(None, building=b, unit=2, room="202", use="rented")
        hh1 = reg.create_household(None, house=h1)
        hh2 = reg.create_household(None, house=h2)
        head = add_person(hh1, ["张三", "李四", "王五"][i - 1], dt.date(1950, 3, i), "M", next(seq), phone=f"1380000{i:04d}")
        spouse = add_person(hh1, ["赵敏", "钱芳", "孙丽"][i - 1], dt.date(1952, 5, i), "F", next(seq), relation="spouse")
        tenant = add_person(hh2, ["周杰", "吴刚", "郑洁"][i - 1], dt.date(1990, 7, i), "M", next(seq), phone=f"1390000{i:04d}")
        org = reg.create_organization(None, grid=grid, data={"name": f"测试便利店{i}", "kind": "business"})
        setattr(w, f"g{i}", SimpleNamespace(building=b, houses=[h1, h2], households=[hh1, hh2], residents=[head, spouse, tenant], org=org))

    w.admin = make_user("admin", Role.CITY_ADMIN, w.city)
    w.street1 = make_user("street1", Role.STREET_OFFICER, w.street)
    w.community1 = make_user("community1", Role.COMMUNITY_WORKER, w.community)
    w.grid1_user = make_user("grid1", Role.GRID_WORKER, w.grid1)
    w.grid2_user = make_user("grid2", Role.GRID_WORKER, w.grid2)
    w.dept1 = make_user("dept1", Role.DEPARTMENT_HANDLER, w.district, department="住建局")
    w.resident1 = make_user("resident1", Role.RESIDENT, w.grid1, resident=w.g1.residents[2])
    return w
