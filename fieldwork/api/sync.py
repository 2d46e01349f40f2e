"""The phone's offline queue over JSON (mounted at /api/fieldwork/).

- `POST /sync` receives queued items `{"items": [{"key", "kind", "payload"}]}` (at most 500) and
  answers one result per item, in order: ok (with the new object's id), duplicate (a replayed key:
  the first answer's id, nothing changed), refused (code and messages; the same key always gets
  the same refusal) or error (try again later). Session (with the X-CSRFToken header) or bearer.
- `GET /bundle` is what the phone keeps for working with no signal: the due list and its
  households, and the categories of the quick reports.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema

from linli.errors import Forbidden
from linli.schemas import Id, errors

from .. import access
from ..services import sync

router = Router(tags=["fieldwork"])


class SyncIn(Schema):
    items: list[Any]


class SyncResult(Schema):
    key: str | None
    status: str
    id: int | None = None
    code: str = ""
    message: str = ""
    message_en: str = ""
    field: str | None = None
    detail: Any = None


class SyncOut(Schema):
    results: list[SyncResult]


def _field_worker(user):
    if not access.is_field_worker(user):
        raise Forbidden("field_only", _("Only grid and community workers can send field records."))


@router.post("/sync", response={200: SyncOut, **errors()}, summary="Receive a phone's queued offline items (idempotent per key)")
def sync_items(request, body: SyncIn):
    _field_worker(request.auth)
    return {"results": sync.sync(request.auth, body.items)}


class BundleQuery(Schema):
    grid: list[Id] = Field([], description="Grids to keep (a community worker's); default: the worker's own grids, "
                                            "else the grid whose due list was last opened.")


@router.get("/bundle", response={200: dict, **errors()}, summary="The due list and households a grid worker keeps on the phone")
def offline_bundle(request, q: Query[BundleQuery]):
    _field_worker(request.auth)
    session = getattr(request, "session", None)
    remembered = session.get(sync.BUNDLE_GRIDS, ()) if session is not None else ()
    return sync.bundle(request.auth, grid_ids=sync.bundle_grids(request.auth, q.grid or (), remembered))
