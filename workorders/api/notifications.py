"""The caller's notifications: a keyset page, newest first, and marking them read."""

import datetime as dt

from ninja import Field, Query, Router, Schema

from linli.paging import keyset
from linli.schemas import Id, errors

from .. import access
from ..services import notify
from .bodies import MAX_LIMIT, body, parse

router = Router()


class NotificationOut(Schema):
    id: int
    order_id: int | None
    verb: str
    text: str
    at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    unread: int
    next_after: int | None


class MarkedOut(Schema):
    marked: int


class NotificationQuery(Schema):
    after: int | None = Field(None, description="The `next_after` of the previous page (newest first).")
    limit: int = Field(50, ge=1, le=MAX_LIMIT)
    unread: bool = False


class MarkReadIn(Schema):
    ids: list[Id] | None = Field(None, description="Leave out to mark every notification read.")


@router.get(
    "/notifications", response={200: NotificationPage, **errors()}, summary="My notifications, newest first",
    operation_id="workorders_api_list_notifications",
)
def list_notifications(request, q: Query[NotificationQuery]):
    page = keyset(access.notifications(request.auth, unread=q.unread), after=q.after, limit=q.limit, order=("-id",))
    return {
        "items": [{"id": n.pk, "order_id": n.order_id, "verb": n.verb, "text": n.text, "at": n.at, "read_at": n.read_at} for n in page],
        "unread": access.unread_count(request.auth),
        "next_after": page.next_after,
    }


@router.post(
    "/notifications/read", response={200: MarkedOut, **errors()}, summary="Mark my notifications read",
    openapi_extra=body(MarkReadIn), operation_id="workorders_api_mark_notifications_read",
)
def mark_notifications_read(request):
    payload, _files = parse(request, MarkReadIn)
    return {"marked": notify.mark_read(request.auth, payload.ids)}
