"""The tree of places, as far as the caller's roles reach.

Reads go through the scope helpers (a node outside the caller's subtrees is "not found");
changes go through regions/services.py, which checks the regions.manage permission.
"""

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status

from accounts.access import in_scope
from linli.errors import NotFound
from linli.schemas import errors

from . import access, services
from .models import Region

router = Router(tags=["regions"])


class RegionOut(Schema):
    id: int
    name: str
    code: str
    level: int
    level_label: str
    kind_label: str
    path: str
    parent_id: int | None
    has_children: bool
    active: bool
    valid_from: dt.date
    valid_to: dt.date | None
    successor_id: int | None


class Ancestor(Schema):
    id: int
    name: str
    code: str
    level: int


class RegionDetail(RegionOut):
    ancestors: list[Ancestor]
    boundary: dict | None
    bbox: list[float] | None


class RegionList(Schema):
    parent: RegionOut | None
    items: list[RegionOut]


class RegionIn(Schema):
    parent_id: int | None = Field(None, description="The parent node; empty only for a new city (system administrators).")
    name: str
    code: str = Field("", description="12-digit official code; for a grid leave empty to get the next number.")
    boundary: dict[str, Any] | None = Field(None, description="GeoJSON Polygon or MultiPolygon.")
    valid_from: dt.date | None = None


class RegionPatch(Schema):
    name: str | None = None
    boundary: dict[str, Any] | None = Field(None, description="GeoJSON; send null to clear it, leave out to keep it.")


class MoveIn(Schema):
    community_id: int


class MergeIn(Schema):
    into_id: int
    on: dt.date | None = None


class LocateQuery(Schema):
    lng: float = Field(..., ge=-180, le=180)
    lat: float = Field(..., ge=-90, le=90)


def _out(region: Region, parent_id: int | None = ...) -> dict:
    return {
        "id": region.pk,
        "name": region.name,
        "code": region.code,
        "level": region.level,
        "level_label": str(region.get_level_display()),
        "kind_label": str(region.kind_label),
        "path": region.path,
        "parent_id": access.parent_id(region) if parent_id is ... else parent_id,
        "has_children": region.numchild > 0,
        "active": region.valid_to is None,
        "valid_from": region.valid_from,
        "valid_to": region.valid_to,
        "successor_id": region.successor_id,
    }


def _detail(region: Region) -> dict:
    chain = region.ancestors_and_self()
    out = _out(region, chain[-2].pk if len(chain) > 1 else None)
    out["ancestors"] = [{"id": r.pk, "name": r.name, "code": r.code, "level": r.level} for r in chain[:-1]]
    out["boundary"] = region.boundary
    out["bbox"] = [region.min_lng, region.min_lat, region.max_lng, region.max_lat] if region.boundary else None
    return out


def _get(user, pk) -> Region:
    return access.place(user, pk)


@router.get("/", response={200: RegionList, **errors()}, summary="Children of a node (default: your home nodes)")
def list_regions(request, parent_id: int | None = None, include_closed: bool = True):
    user = request.auth
    if parent_id is None:
        rows = access.top_nodes(user)
        parent = None
    else:
        parent = _get(user, parent_id)
        rows = access.children_in_order(parent)
    if not include_closed:
        rows = [r for r in rows if r.valid_to is None]
    return {
        "parent": _out(parent) if parent else None,
        "items": [_out(r, parent.pk if parent else ...) for r in rows],
    }


@router.get("/locate", response={200: RegionDetail, **errors()}, summary="The grid containing a point (within your area)")
def locate(request, point: Query[LocateQuery]):
    grid = services.point_to_grid(point.lng, point.lat)
    if grid is None or not in_scope(request.auth, grid.path):
        raise NotFound("not_found", _("No grid of your area contains that point."))
    return _detail(grid)


@router.get("/{region_id}", response={200: RegionDetail, **errors()}, summary="One node with its ancestors")
def get_region(request, region_id: int):
    return _detail(_get(request.auth, region_id))


@router.post("/", response={201: RegionDetail, **errors()}, summary="Create a node under a parent")
def create_region(request, payload: RegionIn):
    parent = _get(request.auth, payload.parent_id) if payload.parent_id is not None else None
    region = services.create_region(
        request.auth, parent=parent, code=payload.code, name=payload.name, boundary=payload.boundary, valid_from=payload.valid_from
    )
    return Status(201, _detail(access.reloaded(region)))


@router.patch("/{region_id}", response={200: RegionDetail, **errors()}, summary="Rename a node or change its boundary")
def update_region(request, region_id: int, payload: RegionPatch):
    region = _get(request.auth, region_id)
    fields = payload.dict(exclude_unset=True)
    region = services.update_region(
        request.auth, region, name=fields.get("name"), boundary=fields["boundary"] if "boundary" in fields else ...
    )
    return _detail(region)


@router.post("/{region_id}/move", response={200: RegionDetail, **errors()}, summary="Move a grid to another community")
def move_grid(request, region_id: int, payload: MoveIn):
    grid = _get(request.auth, region_id)
    community = _get(request.auth, payload.community_id)
    return _detail(services.move_grid(request.auth, grid, community))


@router.post("/{region_id}/merge", response={200: RegionDetail, **errors()}, summary="Merge a community into another")
def merge(request, region_id: int, payload: MergeIn):
    source = _get(request.auth, region_id)
    target = _get(request.auth, payload.into_id)
    return _detail(services.merge_communities(request.auth, source, target, on=payload.on))

