"""Organisations over JSON: those of the caller's area, registering, editing and archiving one
(DELETE archives: it stays in the history)."""

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from linli.paging import keyset
from linli.schemas import PageQuery, errors
from regions.access import place
from regions.schemas import RegionRef, region_ref

from .. import access, services
from ..models import Organization

router = Router()


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
        qs = qs.filter(region_path__startswith=place(request.auth, region_id).path)
    if q.strip():
        qs = qs.filter(name__contains=q.strip())
    rows = keyset(qs, after=page.after, limit=page.limit)
    return {"items": [_org(o) for o in rows], "next_after": rows.next_after}


@router.get("/organizations/{org_id}", response={200: OrganizationOut, **errors()}, summary="One organisation")
def get_organization(request, org_id: int):
    return _org(access.organization(request.auth, org_id))


@router.post("/organizations", response={201: OrganizationOut, **errors()}, summary="Register an organisation in a grid")
def create_organization(request, payload: OrganizationIn):
    grid = place(request.auth, payload.region_id)
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
    return _org(access.organization_incl_archived(request.auth, o.pk))
