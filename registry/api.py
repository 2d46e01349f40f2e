"""The registry over JSON: buildings, houses, households, residents, organisations, imports and
exports, each within the caller's area.

Handlers read through registry/access.py (a row outside the caller's area is "not found") and
change data only through registry/services.py. Rows are never hard-deleted: DELETE archives a
building or organisation; a resident leaves through move-out or death. ID numbers and phone
numbers leave the server masked, except through POST /residents/{id}/reveal (logged).
"""

import datetime as dt
import os
from decimal import Decimal
from typing import Literal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from accounts.access import get_scoped
from linli.errors import DomainError, NotFound
from linli.schemas import DatedNoteIn, errors
from regions.models import Region
from regions.schemas import RegionRef, region_ref

from . import access, services
from .models import (
    Building,
    CareTag,
    House,
    Household,
    ImportJob,
    Organization,
    Resident,
    ResidentEvent,
    ResidentStatus,
    ResidentTag,
)
from .search import search_residents

router = Router(tags=["registry"])

MAX_LIMIT = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_response(description: str) -> dict:
    return {
        "responses": {
            200: {
                "description": description,
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


class PageQuery(Schema):
    after: int | None = Field(None, description="The `next_after` of the previous page.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


def _region_in_scope(user, region_id: int) -> Region:
    return get_scoped(Region.objects.all(), user, region_id, field="path")


def _grid(user, region_id: int) -> Region:
    return _region_in_scope(user, region_id)


def _page(qs, page: PageQuery, out) -> dict:
    if page.after:
        qs = qs.filter(pk__gt=page.after)
    rows = list(qs.order_by("pk")[: page.limit + 1])
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return {"items": [out(r) for r in rows], "next_after": rows[-1].pk if more else None}


def _not_found():
    return NotFound("not_found", _("Not found, or outside your area."))


# ---------------------------------------------------------------- buildings

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
        qs = qs.filter(region_path__startswith=_region_in_scope(request.auth, region_id).path)
    return _page(qs, page, _building)


@router.get("/buildings/{building_id}", response={200: BuildingOut, **errors()}, summary="One building")
def get_building(request, building_id: int):
    return _building(access.building(request.auth, building_id))


@router.post("/buildings", response={201: BuildingOut, **errors()}, summary="Register a building in a grid")
def create_building(request, payload: BuildingIn):
    grid = _grid(request.auth, payload.region_id)
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
    members = access.residents(request.auth).filter(household=hh, status=ResidentStatus.ACTIVE).order_by("pk")
    out["members"] = [_member(r) for r in members]
    return out


@router.post("/households", response={201: HouseholdOut, **errors()}, summary="Open a household in a house")
def create_household(request, payload: HouseholdIn):
    house = access.house(request.auth, payload.house_id)
    hh = services.create_household(request.auth, house=house, number=payload.number)
    return Status(201, _household(access.household(request.auth, hh.pk)))


# ---------------------------------------------------------------- residents

class TagOut(Schema):
    code: str
    name: str
    start_date: dt.date
    note: str = ""


class ResidentOut(Schema):
    id: int
    name: str
    gender: str
    birth_date: dt.date
    age: int
    id_number: str = Field(..., description="Masked, e.g. 3205**********123X.")
    phone: str = Field(..., description="Masked, e.g. 138****5678.")
    ethnicity: str
    residence_type: str
    political_status: str
    status: str
    status_label: str
    household_id: int | None
    relation: str
    address: str
    region: RegionRef
    tags: list[TagOut]
    updated_at: dt.datetime


class ResidentPage(Schema):
    items: list[ResidentOut]
    next_after: int | None
    query_kind: str = Field(..., description="How q was read: all, id_number, phone, pinyin, address or name.")


class PersonFields(Schema):
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    ethnicity: str | None = None
    residence_type: str | None = None
    political_status: str | None = None


class ResidentIn(Schema):
    household_id: int
    relation: str = "head"
    date: str | None = Field(None, description="Date of moving in (today when left out).")
    name: str
    id_number: str
    phone: str = ""
    ethnicity: str = "汉族"
    residence_type: str = "registered"
    political_status: str = "masses"
    note: str = ""


class ResidentPatch(PersonFields):
    relation: str | None = None
    expected_updated_at: dt.datetime | None = Field(
        None, description="The updated_at you read; the change is refused if someone changed the row since."
    )


class MoveHouseIn(DatedNoteIn):
    household_id: int
    relation: str = "other"


class TagIn(Schema):
    tag: str = Field(..., description="The care tag's code (or its name).")
    date: str | None = None
    note: str = ""


class RevealIn(Schema):
    field: Literal["id_number", "phone"]
    reason: str = Field("", max_length=200)


class RevealOut(Schema):
    value: str


class EventOut(Schema):
    kind: str
    kind_label: str
    date: dt.date
    from_household_id: int | None
    to_household_id: int | None
    note: str
    by: str | None
    at: dt.datetime


class AuditOut(Schema):
    at: dt.datetime
    action: str
    object: str
    by: str | None
    changes: dict[str, list]


class HistoryOut(Schema):
    events: list[EventOut]
    audit: list[AuditOut]


def _open_tags(residents: list[Resident]) -> dict[int, list[dict]]:
    rows = ResidentTag.objects.filter(resident__in=[r.pk for r in residents], end_date__isnull=True).select_related("tag")
    out: dict[int, list[dict]] = {}
    for t in rows.order_by("tag__sort", "tag__code"):
        out.setdefault(t.resident_id, []).append(
            {"code": t.tag.code, "name": t.tag.name, "start_date": t.start_date, "note": t.note}
        )
    return out


def _resident(r: Resident, tags: list[dict] | None = None) -> dict:
    if tags is None:
        tags = _open_tags([r]).get(r.pk, [])
    house = r.household.house if r.household_id else None
    return {
        "id": r.pk,
        "name": r.name,
        "gender": r.gender,
        "birth_date": r.birth_date,
        "age": r.age(),
        "id_number": r.id_number_masked,
        "phone": r.phone_masked,
        "ethnicity": r.ethnicity,
        "residence_type": r.residence_type,
        "political_status": r.political_status,
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "household_id": r.household_id,
        "relation": r.relation,
        "address": str(house) if house else "",
        "region": region_ref(r.region),
        "tags": tags,
        "updated_at": r.updated_at,
    }


def _fresh(user, pk) -> dict:
    return _resident(access.resident(user, pk))


STATUS_FILTERS = {"active": ResidentStatus.ACTIVE, "moved_out": ResidentStatus.MOVED_OUT, "deceased": ResidentStatus.DECEASED, "all": ""}


class ResidentQuery(Schema):
    q: str = Field("", max_length=100, description="ID number or phone (exact), pinyin or initials, address (3号楼2单元301) or name.")
    tag: str = Field("", description="A care tag's code.")
    status: Literal["active", "moved_out", "deceased", "all"] = "active"
    region_id: int | None = Field(None, description="Only this node's subtree (within your area).")


def _region_path(user, region_id: int | None) -> str:
    return _region_in_scope(user, region_id).path if region_id is not None else ""


@router.get("/residents", response={200: ResidentPage, **errors()}, summary="Search residents in your area")
def list_residents(request, filters: Query[ResidentQuery], page: Query[PageQuery]):
    user = request.auth
    result = search_residents(
        user, filters.q, tag=filters.tag, status=STATUS_FILTERS[filters.status],
        region_path=_region_path(user, filters.region_id), after=page.after, limit=page.limit,
    )
    tags = _open_tags(result.rows)
    return {
        "items": [_resident(r, tags.get(r.pk, [])) for r in result.rows],
        "next_after": result.next_after,
        "query_kind": result.query_kind,
    }


@router.get("/residents/{resident_id}", response={200: ResidentOut, **errors()}, summary="One resident (masked)")
def get_resident(request, resident_id: int):
    return _fresh(request.auth, resident_id)


@router.post("/residents", response={201: ResidentOut, **errors()}, summary="Register a person into a household")
def register_resident(request, payload: ResidentIn):
    hh = access.household(request.auth, payload.household_id)
    data = payload.dict(include={"name", "id_number", "phone", "ethnicity", "residence_type", "political_status"})
    r = services.register_resident(request.auth, household=hh, data=data, relation=payload.relation, on=payload.date, note=payload.note)
    return Status(201, _fresh(request.auth, r.pk))


@router.patch("/residents/{resident_id}", response={200: ResidentOut, **errors()}, summary="Edit a resident")
def update_resident(request, resident_id: int, payload: ResidentPatch):
    r = access.resident(request.auth, resident_id)
    data = payload.dict(exclude_unset=True)
    expected = data.pop("expected_updated_at", None)
    if expected is not None and abs(expected - r.updated_at) < dt.timedelta(milliseconds=1):
        # JSON carries milliseconds; the same millisecond is the version the caller read.
        expected = r.updated_at
    services.update_resident(request.auth, r, data, expected_updated_at=expected)
    return _fresh(request.auth, resident_id)


@router.post("/residents/{resident_id}/move-out", response={200: ResidentOut, **errors()}, summary="Record a move out of the area")
def move_out(request, resident_id: int, payload: DatedNoteIn):
    r = access.resident(request.auth, resident_id)
    services.move_out(request.auth, r, on=payload.date, note=payload.note)
    return _fresh(request.auth, resident_id)


@router.post("/residents/{resident_id}/move-house", response={200: ResidentOut, **errors()}, summary="Record a move to another household")
def move_house(request, resident_id: int, payload: MoveHouseIn):
    r = access.resident(request.auth, resident_id)
    hh = access.household(request.auth, payload.household_id)
    services.move_house(request.auth, r, household=hh, relation=payload.relation, on=payload.date, note=payload.note)
    return _fresh(request.auth, resident_id)


@router.post("/residents/{resident_id}/return", response={200: ResidentOut, **errors()}, summary="Record a moved-out person moving back in")
def return_resident(request, resident_id: int, payload: MoveHouseIn):
    r = access.resident(request.auth, resident_id)
    hh = access.household(request.auth, payload.household_id)
    services.return_resident(request.auth, r, household=hh, relation=payload.relation, on=payload.date, note=payload.note)
    return _fresh(request.auth, resident_id)


@router.post("/residents/{resident_id}/death", response={200: ResidentOut, **errors()}, summary="Record a death")
def death(request, resident_id: int, payload: DatedNoteIn):
    r = access.resident(request.auth, resident_id)
    services.record_death(request.auth, r, on=payload.date, note=payload.note)
    return _fresh(request.auth, resident_id)


@router.post("/residents/{resident_id}/tags", response={200: ResidentOut, **errors()}, summary="Add a care tag")
def add_tag(request, resident_id: int, payload: TagIn):
    r = access.resident(request.auth, resident_id)
    services.add_tag(request.auth, r, payload.tag.strip(), on=payload.date, note=payload.note)
    return _fresh(request.auth, resident_id)


@router.delete("/residents/{resident_id}/tags/{code}", response={200: ResidentOut, **errors()}, summary="End a care tag")
def end_tag(request, resident_id: int, code: str, date: str | None = None):
    r = access.resident(request.auth, resident_id)
    tag = CareTag.objects.filter(code=code).first()
    if tag is None or not ResidentTag.objects.filter(resident=r, tag=tag, end_date__isnull=True).exists():
        raise NotFound("tag_not_found", _("This resident has no open tag %(tag)s."), field="code", tag=code)
    services.end_tag(request.auth, r, tag, on=date)
    return _fresh(request.auth, resident_id)


@router.post("/residents/{resident_id}/reveal", response={200: RevealOut, **errors()}, summary="The full ID number or phone (logged)")
def reveal(request, resident_id: int, payload: RevealIn):
    r = access.resident(request.auth, resident_id)
    value = services.reveal(request.auth, r, payload.field, ip=request.META.get("REMOTE_ADDR"), reason=payload.reason)
    return {"value": value}


SECRET_SUFFIXES = ("_enc", "_bidx")


def _clean_changes(changes) -> dict[str, list]:
    out = {}
    for field, pair in (changes or {}).items():
        if field.endswith(SECRET_SUFFIXES):
            continue
        out[field] = list(pair) if isinstance(pair, (list, tuple)) else [pair]
    return out


@router.get("/residents/{resident_id}/history", response={200: HistoryOut, **errors()}, summary="Moves, deaths and every recorded change")
def history(request, resident_id: int):
    from auditlog.models import LogEntry

    r = access.resident(request.auth, resident_id)
    events = ResidentEvent.objects.filter(resident=r).select_related("created_by")
    tag_ids = [str(pk) for pk in ResidentTag.objects.filter(resident=r).values_list("pk", flat=True)]
    ct_res = ContentType.objects.get_for_model(Resident)
    ct_tag = ContentType.objects.get_for_model(ResidentTag)
    entries = (
        LogEntry.objects.filter(content_type=ct_res, object_pk=str(r.pk))
        | LogEntry.objects.filter(content_type=ct_tag, object_pk__in=tag_ids)
    ).select_related("actor").order_by("-timestamp", "-pk")
    return {
        "events": [
            {
                "kind": e.kind,
                "kind_label": str(e.get_kind_display()),
                "date": e.date,
                "from_household_id": e.from_household_id,
                "to_household_id": e.to_household_id,
                "note": e.note,
                "by": str(e.created_by) if e.created_by_id else None,
                "at": e.created_at,
            }
            for e in events
        ],
        "audit": [
            {
                "at": le.timestamp,
                "action": {0: "create", 1: "update", 2: "delete", 3: "access"}.get(le.action, str(le.action)),
                "object": "tag" if le.content_type_id == ct_tag.pk else "resident",
                "by": str(le.actor) if le.actor_id else None,
                "changes": _clean_changes(le.changes_dict),
            }
            for le in entries
        ],
    }


# ---------------------------------------------------------------- organisations

class OrganizationOut(Schema):
    id: int
    region: RegionRef
    name: str
    kind: str
    kind_label: str
    credit_code: str
    address: str
    building_id: int | None
    contact_name: str
    contact_phone: str = Field(..., description="Masked.")
    employees: int | None
    archived_at: dt.datetime | None


class OrganizationPage(Schema):
    items: list[OrganizationOut]
    next_after: int | None


class OrganizationFields(Schema):
    name: str | None = None
    kind: str | None = None
    credit_code: str | None = None
    address: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    employees: int | None = Field(None, ge=0)


class OrganizationIn(OrganizationFields):
    region_id: int = Field(..., description="The grid the organisation is in.")
    name: str


def _org(o: Organization) -> dict:
    return {
        "id": o.pk,
        "region": region_ref(o.region),
        "name": o.name,
        "kind": o.kind,
        "kind_label": str(o.get_kind_display()),
        "credit_code": o.credit_code,
        "address": o.address,
        "building_id": o.building_id,
        "contact_name": o.contact_name,
        "contact_phone": o.contact_phone_masked,
        "employees": o.employees,
        "archived_at": o.archived_at,
    }


@router.get("/organizations", response={200: OrganizationPage, **errors()}, summary="Organisations in your area")
def list_organizations(request, page: Query[PageQuery], region_id: int | None = None, q: str = ""):
    qs = access.organizations(request.auth)
    if region_id is not None:
        qs = qs.filter(region_path__startswith=_region_in_scope(request.auth, region_id).path)
    if q.strip():
        qs = qs.filter(name__contains=q.strip())
    return _page(qs, page, _org)


@router.get("/organizations/{org_id}", response={200: OrganizationOut, **errors()}, summary="One organisation")
def get_organization(request, org_id: int):
    return _org(access.organization(request.auth, org_id))


@router.post("/organizations", response={201: OrganizationOut, **errors()}, summary="Register an organisation in a grid")
def create_organization(request, payload: OrganizationIn):
    grid = _grid(request.auth, payload.region_id)
    data = payload.dict(exclude_unset=True, exclude={"region_id"})
    o = services.create_organization(request.auth, grid=grid, data=data)
    return Status(201, _org(access.organization(request.auth, o.pk)))


@router.patch("/organizations/{org_id}", response={200: OrganizationOut, **errors()}, summary="Edit an organisation")
def update_organization(request, org_id: int, payload: OrganizationFields):
    o = access.organization(request.auth, org_id)
    services.update_organization(request.auth, o, payload.dict(exclude_unset=True))
    return _org(access.organization(request.auth, org_id))


@router.delete("/organizations/{org_id}", response={200: OrganizationOut, **errors()}, summary="Archive an organisation")
def archive_organization(request, org_id: int):
    o = access.organization(request.auth, org_id)
    o = services.archive_organization(request.auth, o)
    o = Organization.objects.select_related("region").get(pk=o.pk)
    return _org(o)


# ---------------------------------------------------------------- import and export

class ImportJobOut(Schema):
    id: int
    status: str
    status_label: str
    mode: str
    original_name: str
    region: RegionRef
    processed: int
    total: int
    created: int
    updated: int
    errors: int
    message: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    report_url: str | None


def _job(job: ImportJob) -> dict:
    from .services.importer import rows_done

    return {
        "id": job.pk,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "mode": job.mode,
        "original_name": job.original_name,
        "region": region_ref(job.region),
        "processed": rows_done(job),
        "total": job.total_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "errors": job.error_count,
        "message": job.message,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "report_url": f"/api/registry/imports/{job.pk}/report" if job.report else None,
    }


@router.post("/imports", response={202: ImportJobOut, **errors(413)}, summary="Upload a resident spreadsheet (.xlsx)")
def start_import(
    request,
    file: UploadedFile = File(..., description="The spreadsheet (.xlsx or .xls)."),  # noqa: B008
    mode: Literal["atomic", "valid_rows"] = Form("atomic"),
    region_id: int | None = Form(None, description="Import into this node (within your area); default your home node."),
):
    from .services import importer

    user = request.auth
    access.require(user, "registry.import")
    if file.size and file.size > settings.LINLI_MAX_UPLOAD_BYTES:
        raise DomainError(
            "import_file_too_big", _("The file is larger than %(mb)s MB; split it into smaller files."),
            field="file", status=413, mb=settings.LINLI_MAX_UPLOAD_BYTES // (1024 * 1024),
        )
    region = _region_in_scope(user, region_id) if region_id is not None else None
    job = importer.start_import(user, file, mode=mode, region=region)
    job = access.import_jobs(user).select_related("region").filter(pk=job.pk).first() or job
    return Status(202, _job(job))


@router.get("/imports/{job_id}", response={200: ImportJobOut, **errors()}, summary="An import's status and progress")
def get_import(request, job_id: int):
    user = request.auth
    return _job(get_scoped(access.import_jobs(user).select_related("region"), user, job_id))


@router.get("/imports/{job_id}/report", response=errors(), openapi_extra=_xlsx_response("The row-by-row report."),
            summary="An import's row-by-row report (.xlsx)")
def import_report(request, job_id: int):
    user = request.auth
    job = get_scoped(access.import_jobs(user), user, job_id)
    if not job.report:
        raise NotFound("report_not_ready", _("This import has no report yet."))
    try:
        handle = job.report.open("rb")
    except FileNotFoundError:
        raise NotFound("report_missing", _("The report file is no longer available."))
    return FileResponse(handle, as_attachment=True, filename=f"import-{job.pk}-report.xlsx", content_type=XLSX)


class ExportQuery(Schema):
    q: str = Field("", max_length=100)
    tag: str = ""
    region_id: int | None = None


@router.get("/export", response=errors(), openapi_extra=_xlsx_response("The residents, masked."),
            summary="Residents of your area as .xlsx (same filters as the list)")
def export(request, filters: Query[ExportQuery]):
    from . import exports

    user = request.auth
    access.require(user, "registry.export")
    path = exports.export_residents_xlsx(user, q=filters.q, tag=filters.tag, region_path=_region_path(user, filters.region_id))
    name = f"residents-{dt.date.today():%Y%m%d}.xlsx"
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=name, content_type=XLSX)
    _remove_after(response, path)
    return response


def _remove_after(response: FileResponse, path) -> None:
    """Delete the temporary export file once the response is sent."""
    close = response.close

    def closer():
        close()
        try:
            os.remove(path)
        except OSError:
            pass

    response.close = closer

