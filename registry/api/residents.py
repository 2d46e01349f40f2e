"""Residents over JSON: the search, one resident (masked), registering a person, edits, moves,
deaths, care tags, the logged reveal of a full number, and a resident's history. A resident is
never deleted: they leave through a move out or a death."""

import datetime as dt
from typing import Literal

from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from linli.errors import NotFound
from linli.schemas import DatedNoteIn, PageQuery, errors
from regions.schemas import RegionRef, region_ref

from .. import access, services
from ..access import history as access_history
from ..access.search import search_residents
from ..models import Resident, ResidentStatus

router = Router()


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
    return {
        resident_id: [{"code": t.tag.code, "name": t.tag.name, "start_date": t.start_date, "note": t.note} for t in tags]
        for resident_id, tags in access.open_tags(residents).items()
    }


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


@router.get("/residents", response={200: ResidentPage, **errors()}, summary="Search residents in your area")
def list_residents(request, filters: Query[ResidentQuery], page: Query[PageQuery]):
    user = request.auth
    result = search_residents(
        user, filters.q, tag=filters.tag, status=STATUS_FILTERS[filters.status],
        region_path=access.region_path(user, filters.region_id), after=page.after, limit=page.limit,
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
    tag = access.open_tag(r, code)
    if tag is None:
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
    r = access.resident(request.auth, resident_id)
    events, entries, tag_type_id = access_history.resident_record(r)
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
                "object": "tag" if le.content_type_id == tag_type_id else "resident",
                "by": str(le.actor) if le.actor_id else None,
                "changes": _clean_changes(le.changes_dict),
            }
            for le in entries
        ],
    }
