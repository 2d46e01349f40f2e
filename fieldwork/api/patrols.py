"""Patrols over JSON (mounted at /api/fieldwork/).

- `POST /patrols` starts a patrol (idempotent on `client_key`);
- `POST /patrols/{patrol}/points` adds a batch of location points (a replayed batch adds
  nothing; bad points are refused one by one, the rest are kept);
- `POST /patrols/{patrol}/end` ends it (idempotent);
- `GET /patrols/{id}` the route as a GeoJSON LineString with its stats;
- `GET /patrols` the caller's patrols (`mine=true`) or those of their area, newest first.

`{patrol}` in the worker's own routes is the patrol's id or the phone's client key. Handlers
parse, call fieldwork/services/patrols.py and render; reading goes through fieldwork/access.py, so a
patrol outside the caller's area answers 404.
"""

from typing import Any

from ninja import Field, Query, Router, Schema, Status

from linli.paging import keyset
from linli.schemas import errors, iso
from regions.schemas import RegionRef, region_ref

from .. import access
from ..models import Patrol
from ..services import patrols

router = Router(tags=["fieldwork"])

MAX_LIMIT = 200


class PatrolIn(Schema):
    grid_id: int | None = Field(None, description="The grid patrolled; default: the worker's only grid.")
    started_at: str | None = Field(None, description="ISO time the patrol started on the phone; default now.")
    lat: float | None = None
    lng: float | None = None
    client_key: str = Field("", max_length=64, description="The phone's idempotency key: a second start with it returns the first patrol.")


class PointsIn(Schema):
    points: list[dict[str, Any]] = Field(..., description="[{at, lat, lng, accuracy}] at most 500.")


class PointsOut(Schema):
    accepted: int
    duplicates: int
    refused: list[dict[str, Any]]
    point_count: int
    distance_m: int


class EndIn(Schema):
    ended_at: str | None = None
    note: str = Field("", max_length=500)


class PersonRef(Schema):
    id: int
    name: str


class PatrolOut(Schema):
    id: int
    status: str
    worker: PersonRef
    grid: RegionRef
    started_at: str
    ended_at: str | None
    seconds: int = Field(..., description="Duration so far (an active patrol: up to now).")
    distance_m: int
    point_count: int
    note: str
    client_key: str


class PatrolDetail(PatrolOut):
    route: dict = Field(..., description="GeoJSON Feature with a LineString of [lng, lat].")
    min_minutes: int = Field(..., description="The daily minimum that applies to the patrol's grid on its day.")


class PatrolPage(Schema):
    items: list[PatrolOut]
    next_after: int | None


class PatrolQuery(Schema):
    mine: bool = Field(False, description="Only my own patrols.")
    grid_id: int | None = None
    after: int | None = Field(None, description="The `next_after` of the previous page.")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


def _out(p: Patrol) -> dict:
    return {
        "id": p.pk,
        "status": p.status,
        "worker": {"id": p.worker_id, "name": p.worker.display_name or p.worker.username},
        "grid": region_ref(p.region),
        "started_at": iso(p.started_at),
        "ended_at": iso(p.ended_at),
        "seconds": p.seconds if p.status == "ended" else patrols.elapsed(p),
        "distance_m": p.distance_m,
        "point_count": p.point_count,
        "note": p.note,
        "client_key": p.client_key,
    }


def _detail(p: Patrol) -> dict:
    from django.utils import timezone

    return {
        **_out(p),
        "route": patrols.geojson(p),
        "min_minutes": patrols.min_minutes(p.region_path, timezone.localtime(p.started_at).date()),
    }


@router.post("/patrols", response={201: PatrolOut, **errors()}, summary="Start a patrol (idempotent on client_key)")
def start(request, payload: PatrolIn):
    p = patrols.start_patrol(
        request.auth, grid=payload.grid_id, started_at=payload.started_at, lat=payload.lat, lng=payload.lng,
        client_key=payload.client_key,
    )
    return Status(201, _out(access.own_patrol(request.auth, p.pk)))


@router.post("/patrols/{patrol}/points", response={200: PointsOut, **errors()}, summary="Add a batch of location points")
def add_points(request, patrol: str, payload: PointsIn):
    result = patrols.add_points(request.auth, patrol, payload.points)
    p = patrols.patrol_by_key(request.auth, patrol)
    p.refresh_from_db(fields=["point_count", "distance_m"])
    return {**result, "point_count": p.point_count, "distance_m": p.distance_m}


@router.post("/patrols/{patrol}/end", response={200: PatrolOut, **errors()}, summary="End a patrol (idempotent)")
def end(request, patrol: str, payload: EndIn):
    p = patrols.end_patrol(request.auth, patrol, ended_at=payload.ended_at, note=payload.note)
    return _out(access.own_patrol(request.auth, p.pk))


@router.get("/patrols/{patrol_id}", response={200: PatrolDetail, **errors()}, summary="One patrol: route (GeoJSON) and stats")
def get_patrol(request, patrol_id: int):
    return _detail(access.patrol(request.auth, patrol_id))


@router.get("/patrols", response={200: PatrolPage, **errors()}, summary="Patrols: mine, or those of my area; newest first")
def list_patrols(request, q: Query[PatrolQuery]):
    qs = access.patrol_list(request.auth, mine=q.mine, grid_id=q.grid_id)
    page = keyset(qs.select_related("worker", "region"), after=q.after, limit=q.limit, order=("-id",))
    return {"items": [_out(p) for p in page], "next_after": page.next_after}
