"""Places over JSON: buildings, houses and households of the caller's area. DELETE archives a
building (its houses and history stay)."""

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from linli.paging import keyset
from linli.schemas import PageQuery, errors
from regions.access import place
from regions.schemas import RegionRef, region_ref

from .. import access, services
from ..models import Building, House, Household, Resident

router = Router()


def _page(qs, page: PageQuery, out) -> dict:
    rows = keyset(qs, after=page.after, limit=page.limit)
    return {"items": [out(r) for r in rows], "next_after": rows.next_after}


class BuildingOut(Schema):
    id: int
    region: RegionRef
    estate: str
    number: str
    label: str
    address: str
    floors: int
    units: int
    archived_at: dt.datetime | None


class BuildingPage(Schema):
    items: list[BuildingOut]
    next_after: int | None


class BuildingIn(Schema):
    region_id: int = Field(..., description="The grid the building stands in.")
    estate: str
    number: str
    address: str = ""
    floors: int = 6
    units: int = 1


class BuildingPatch(Schema):
    estate: str | None = None
    number: str | None = None
    address: str | None = None
    floors: int | None = None
    units: int | None = None


def _building(b: Building) -> dict:
    return {
        "id": b.pk,
        "region": region_ref(b.region),
        "estate": b.estate,
        "number": b.number,
        "label": str(b),
        "address": b.address,
        "floors": b.floors,
        "units": b.units,
        "archived_at": b.archived_at,
    }


@router.get("/buildings", response={200: BuildingPage, **errors()}, summary="Buildings in your area")
def list_buildings(request, page: Query[PageQuery], region_id: int | None = None):
    qs = access.buildings(request.auth)
    if region_id is not None:
        qs = qs.filter(region_path__startswith=place(request.auth, region_id).path)
    return _page(qs, page, _building)


@router.get("/buildings/{building_id}", response={200: BuildingOut, **errors()}, summary="One building")
def get_building(request, building_id: int):
    return _building(access.building(request.auth, building_id))


@router.post("/buildings", response={201: BuildingOut, **errors()}, summary="Register a building in a grid")
def create_building(request, payload: BuildingIn):
    grid = place(request.auth, payload.region_id)
    b = services.create_building(
        request.auth, grid=grid, estate=payload.estate, number=payload.number, address=payload.address,
        floors=payload.floors, units=payload.units,
    )
    return Status(201, _building(b))


@router.patch("/buildings/{building_id}", response={200: BuildingOut, **errors()}, summary="Edit a building")
def update_building(request, building_id: int, payload: BuildingPatch):
    b = access.building(request.auth, building_id)
    return _building(services.update_building(request.auth, b, **payload.dict(exclude_unset=True)))


@router.delete("/buildings/{building_id}", response={200: BuildingOut, **errors()}, summary="Archive a building")
def archive_building(request, building_id: int):
    b = access.building(request.auth, building_id)
    return _building(services.archive_building(request.auth, b))


# ---------------------------------------------------------------- houses

class HouseOut(Schema):
    id: int
    region: RegionRef
    building_id: int
    building_label: str
    unit: int
    room: str
    floor: int | None
    use: str
    use_label: str
    area: Decimal | None
    label: str


class HousePage(Schema):
    items: list[HouseOut]
    next_after: int | None


class HouseIn(Schema):
    building_id: int
    unit: int = 1
    room: str
    use: str = "owner"
    area: Decimal | None = Field(None, ge=0, max_digits=8, decimal_places=2)


class HousePatch(Schema):
    use: str | None = None
    area: Decimal | None = Field(None, ge=0, max_digits=8, decimal_places=2)


def _house(h: House) -> dict:
    return {
        "id": h.pk,
        "region": region_ref(h.region),
        "building_id": h.building_id,
        "building_label": str(h.building),
        "unit": h.unit,
        "room": h.room,
        "floor": h.floor,
        "use": h.use,
        "use_label": str(h.get_use_display()),
        "area": h.area,
        "label": str(h),
    }


@router.get("/houses", response={200: HousePage, **errors()}, summary="Houses in your area (by building)")
def list_houses(request, page: Query[PageQuery], building_id: int | None = None):
    qs = access.houses(request.auth)
    if building_id is not None:
        qs = qs.filter(building=access.building(request.auth, building_id))
    return _page(qs, page, _house)


@router.get("/houses/{house_id}", response={200: HouseOut, **errors()}, summary="One house")
def get_house(request, house_id: int):
    return _house(access.house(request.auth, house_id))


@router.post("/houses", response={201: HouseOut, **errors()}, summary="Register a house in a building")
def create_house(request, payload: HouseIn):
    b = access.building(request.auth, payload.building_id)
    h = services.create_house(request.auth, building=b, unit=payload.unit, room=payload.room, use=payload.use, area=payload.area)
    return Status(201, _house(access.house(request.auth, h.pk)))


@router.patch("/houses/{house_id}", response={200: HouseOut, **errors()}, summary="Change a house's use or area")
def update_house(request, house_id: int, payload: HousePatch):
    h = access.house(request.auth, house_id)
    fields = payload.dict(exclude_unset=True)
    services.update_house(request.auth, h, use=fields.get("use"), area=fields.get("area"))
    return _house(access.house(request.auth, house_id))


# ---------------------------------------------------------------- households

class MemberOut(Schema):
    id: int
    name: str
    gender: str
    age: int
    relation: str
    relation_label: str
    id_number: str = Field(..., description="Masked.")
    phone: str = Field(..., description="Masked.")


class HouseholdOut(Schema):
    id: int
    region: RegionRef
    house_id: int
    address: str
    number: str
    head_id: int | None
    head_name: str
    dissolved_on: dt.date | None


class HouseholdDetail(HouseholdOut):
    members: list[MemberOut]


class HouseholdPage(Schema):
    items: list[HouseholdOut]
    next_after: int | None


class HouseholdIn(Schema):
    house_id: int
    number: str = ""


def _household(hh: Household) -> dict:
    return {
        "id": hh.pk,
        "region": region_ref(hh.region),
        "house_id": hh.house_id,
        "address": str(hh.house),
        "number": hh.number,
        "head_id": hh.head_id,
        "head_name": hh.head.name if hh.head_id else "",
        "dissolved_on": hh.dissolved_on,
    }


def _member(r: Resident) -> dict:
    return {
        "id": r.pk,
        "name": r.name,
        "gender": r.gender,
        "age": r.age(),
        "relation": r.relation,
        "relation_label": str(r.get_relation_display()) if r.relation else "",
        "id_number": r.id_number_masked,
        "phone": r.phone_masked,
    }


@router.get("/households", response={200: HouseholdPage, **errors()}, summary="Households in your area (by house)")
def list_households(request, page: Query[PageQuery], house_id: int | None = None):
    qs = access.households(request.auth)
    if house_id is not None:
        qs = qs.filter(house=access.house(request.auth, house_id))
    return _page(qs, page, _household)


@router.get("/households/{household_id}", response={200: HouseholdDetail, **errors()}, summary="One household with its members")
def get_household(request, household_id: int):
    hh = access.household(request.auth, household_id)
    out = _household(hh)
    out["members"] = [_member(r) for r in access.members(request.auth, hh)]
    return out


@router.post("/households", response={201: HouseholdOut, **errors()}, summary="Open a household in a house")
def create_household(request, payload: HouseholdIn):
    house = access.house(request.auth, payload.house_id)
    hh = services.create_household(request.auth, house=house, number=payload.number)
    return Status(201, _household(access.household(request.auth, hh.pk)))
