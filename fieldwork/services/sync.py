"""The offline queue's server side: a phone sends what it recorded with no signal, each item
with its own idempotency key, and gets one answer per item.

- An item is `{"key": "<8-64 chars [A-Za-z0-9_-]>", "kind": "<kind>", "payload": {...}}`. The
  payload keys are the keyword arguments of the kind's service (see KINDS); form values arrive
  as strings, lists, booleans and photos as data URLs, and are converted here.
- Each item runs in its own savepoint (items are committed 50 at a time). The SyncReceipt (user, key) is written in the same
  transaction as the object, so a retry after a crash either finds both or neither. A replayed
  key answers "duplicate" with the stored id (nothing changes); a refused key answers the same
  refusal again. The services are also idempotent on `client_key`, a second guard.
- A bad item (bad key, unknown kind, payload not an object) is refused alone; the others go on.
- An unexpected exception answers "error" for that item only, stores no receipt (the phone keeps
  the item and retries later) and is logged.

Glossary: key — the phone's idempotency key of one queued item; receipt — the stored answer.
"""

import base64
import binascii
import datetime as dt
import functools
import importlib
import inspect
import logging
import re

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.errors import DomainError

from ..models import SyncReceipt

log = logging.getLogger(__name__)

MAX_ITEMS = 500
CHUNK = 50
MAX_PHOTOS = 3
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

# kind -> (module, function, how it is called). "kwargs": fn(actor, **payload, client_key=key);
# "patrol": fn(actor, payload["patrol"], ...) for the patrol steps; "order": fn(actor, payload["order"], ...).
KINDS = {
    "visit": ("fieldwork.services", "record_visit", "kwargs"),
    "report": ("fieldwork.services.attend", "quick_report", "kwargs"),
    "attend": ("fieldwork.services.attend", "arrive", "order"),
    "patrol_start": ("fieldwork.services.patrols", "start_patrol", "kwargs"),
    "patrol_points": ("fieldwork.services.patrols", "add_points", "points"),
    "patrol_end": ("fieldwork.services.patrols", "end_patrol", "patrol"),
}

BOOL_FIELDS = {"nobody_home", "finding_urgent", "urgent"}
LIST_FIELDS = {"met"}
# Values that mean "nothing" for optional fields sent by a form.
EMPTY = ("", None)
# Codes a service raises when a concurrent request with the same key saved first.
DUPLICATE_CODES = {"visit_duplicate", "patrol_duplicate", "report_duplicate", "attend_duplicate", "duplicate"}


class _Race(Exception):
    """Another request with the same key won; read its receipt."""


# ---------------------------------------------------------------- envelope and payloads


def check_envelope(items) -> list:
    if not isinstance(items, list):
        raise DomainError("items_invalid", _("Send the queued items as a list."), field="items")
    if len(items) > MAX_ITEMS:
        raise DomainError(
            "too_many_items", _("Send at most %(max)s items at a time (this request had %(n)s)."), field="items", max=MAX_ITEMS, n=len(items)
        )
    return items


def _item_error(item) -> DomainError | None:
    if not isinstance(item, dict):
        return DomainError("item_invalid", _("Each queued item must be an object with a key, a kind and a payload."))
    key = item.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        return DomainError("key_invalid", _("The item's key must be 8 to 64 letters, digits, '-' or '_'."), field="key")
    if item.get("kind") not in KINDS:
        return DomainError("kind_unknown", _("Unknown kind of queued item: %(kind)s."), field="kind", kind=str(item.get("kind"))[:30])
    if not isinstance(item.get("payload"), dict):
        return DomainError("payload_invalid", _("The item's payload must be an object."), field="payload")
    return None


def _bool(value) -> bool:
    if isinstance(value, list):
        value = value[-1] if value else ""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[\w=.+-]+)*;base64,(.*)$", re.S)
_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif", "image/heic": "heic"}


def photo_from_data_url(value, index: int) -> SimpleUploadedFile:
    """An uploaded file from a data URL (or {"name", "data"}); size-limited before decoding."""
    name = None
    if isinstance(value, dict):
        name, value = value.get("name"), value.get("data")
    if not isinstance(value, str):
        raise DomainError("photo_invalid", _("Photo %(n)s could not be read."), field="files", n=index + 1)
    m = _DATA_URL.match(value.strip())
    if m is None:
        raise DomainError("photo_invalid", _("Photo %(n)s could not be read."), field="files", n=index + 1)
    limit = getattr(settings, "LINLI_MAX_IMAGE_BYTES", 10 * 1024 * 1024)
    encoded = m.group(3)
    if len(encoded) * 3 // 4 > limit:
        raise DomainError(
            "upload_too_large", _("Photo %(n)s is larger than %(limit)s MB."), field="files", n=index + 1, limit=limit // (1024 * 1024)
        )
    try:
        data = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        raise DomainError("photo_invalid", _("Photo %(n)s could not be read."), field="files", n=index + 1)
    content_type = m.group(1) or "application/octet-stream"
    name = str(name or f"photo-{index + 1}.{_EXT.get(content_type, 'bin')}")[:100]
    return SimpleUploadedFile(name, data, content_type=content_type)


def convert(payload: dict) -> dict:
    """Form values as the services take them."""
    out: dict = {}
    attributes = dict(payload.get("attributes") or {}) if isinstance(payload.get("attributes"), dict) else {}
    for name, value in payload.items():
        m = re.match(r"^attribute\[(.+)\]$", name)
        if m:
            attributes[m.group(1)] = value
            continue
        if name in BOOL_FIELDS:
            out[name] = _bool(value)
        elif name in LIST_FIELDS:
            # A lone checkbox arrives as true/false: unticked is no value, ticked its value ("1").
            values = value if isinstance(value, list) else [value]
            out[name] = [("1" if v is True else v) for v in values if v not in EMPTY and v is not False]
        elif name == "files":
            files = [f for f in (value if isinstance(value, list) else [value]) if f not in EMPTY]
            if len(files) > MAX_PHOTOS:
                raise DomainError("too_many_photos", _("At most %(max)s photos can be sent with one item."), field="files", max=MAX_PHOTOS)
            out[name] = [photo_from_data_url(f, i) for i, f in enumerate(files)]
        elif isinstance(value, list) and name not in ("points",):
            # A single-valued field sent twice: the last value counts (as in a form post).
            out[name] = value[-1] if value else ""
        else:
            out[name] = value
    if attributes or "attributes" in payload:
        out["attributes"] = attributes
    return out


@functools.cache
def _accepted(module: str, function: str):
    """The service function and the names of its keyword arguments (None if it does not exist yet)."""
    try:
        fn = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError):
        return None
    params = inspect.signature(fn).parameters
    takes_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
    names = {n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    return fn, names, takes_any


def _call(actor, kind: str, payload: dict, key: str, ctx: dict):
    """Run the kind's service; returns (object id or None, extra detail or None)."""
    module, function, style = KINDS[kind]
    found = _accepted(module, function)
    if found is None:
        raise DomainError("kind_unavailable", _("This kind of item cannot be received yet; it stays on the phone."))
    fn, names, takes_any = found
    args = convert(payload)
    target = None
    if style in ("patrol", "points"):
        target = args.pop("patrol", None)
        if target in EMPTY:
            raise DomainError("patrol_required", _("Say which patrol this belongs to."), field="patrol")
    elif style == "order":
        target = args.pop("order", None)
        if target in EMPTY:
            raise DomainError("order_required", _("Say which work order this is about."), field="order")
    if style == "kwargs" and kind == "visit":
        hh = ctx.get("households", {}).get(_int(args.get("household")))
        if hh is not None:
            args["household"] = hh
    if style == "points":
        points = args.get("points")
        if not isinstance(points, list):
            raise DomainError("points_invalid", _("Send the patrol's points as a list."), field="points")
        result = fn(actor, target, points)
        return _pk(result), result if isinstance(result, dict) else None
    kwargs = {n: v for n, v in args.items() if (takes_any or n in names) and n not in ("actor", "client_key")}
    if "client_key" in names or takes_any:
        kwargs["client_key"] = key
    obj = fn(actor, target, **kwargs) if target is not None else fn(actor, **kwargs)
    return _pk(obj), None


def _pk(obj):
    pk = getattr(obj, "pk", None)
    return int(pk) if pk is not None else None


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- the sync


def _answer(key, status, object_id=None, error: dict | None = None, detail=None) -> dict:
    out = {"key": key, "status": status, "id": object_id, "code": "", "message": "", "message_en": ""}
    if error:
        out.update({k: error.get(k, "") for k in ("code", "message", "message_en")})
        if error.get("field"):
            out["field"] = error["field"]
    if detail is not None:
        out["detail"] = detail
    return out


def _from_receipt(receipt: SyncReceipt) -> dict:
    if receipt.status == "ok":
        return _answer(receipt.key, "duplicate", receipt.object_id, detail=receipt.result.get("detail"))
    return _answer(receipt.key, "refused", receipt.object_id, receipt.result)


def _context(actor, items: list) -> dict:
    """What the batch's items share, read once: the receipts of its keys and its households."""
    from registry.models import Household

    keys = [i["key"] for i in items if isinstance(i, dict) and isinstance(i.get("key"), str)]
    receipts = {r.key: r for r in SyncReceipt.objects.filter(user=actor, key__in=keys)} if keys else {}
    hh_ids = {
        _int(i["payload"].get("household"))
        for i in items
        if isinstance(i, dict) and i.get("kind") == "visit" and isinstance(i.get("payload"), dict) and i.get("key") not in receipts
    } - {None}
    households = {h.pk: h for h in Household.objects.select_related("house__building", "region", "head").filter(pk__in=hh_ids)} if hh_ids else {}
    return {"receipts": receipts, "households": households}


def sync(actor, items) -> list[dict]:
    """Receive a phone's queued items; one answer per item, in order."""
    items = check_envelope(items)
    ctx = _context(actor, items)
    seen: dict[str, dict] = {}
    results = []
    # Items are committed CHUNK at a time (one commit per item costs more than the item itself
    # on a busy disk); each item runs in its own savepoint inside. Answers are only sent after
    # the commit: if it fails, the request fails and the phone sends everything again.
    for start in range(0, len(items), CHUNK):
        with transaction.atomic():
            for item in items[start : start + CHUNK]:
                results.append(_one(actor, item, ctx, seen))
    return results


def _one(actor, item, ctx: dict, seen: dict) -> dict:
    error = _item_error(item)
    if error is not None:
        key = item.get("key") if isinstance(item, dict) and isinstance(item.get("key"), str) else None
        return _answer(key, "refused", error=error.as_dict())
    key = item["key"]
    if key in seen:
        first = seen[key]
        return first if first["status"] != "ok" else {**first, "status": "duplicate"}
    receipt = ctx["receipts"].get(key)
    answer = _from_receipt(receipt) if receipt is not None else receive(actor, item, ctx)
    seen[key] = answer
    return answer


def receive(actor, item: dict, ctx: dict | None = None) -> dict:
    """One item: its object and its receipt in one transaction."""
    key, kind = item["key"], item["kind"]
    try:
        with transaction.atomic():
            try:
                # The services are atomic themselves: a refusal has rolled back what they wrote.
                object_id, detail = _call(actor, kind, item["payload"], key, ctx or {})
            except DomainError as exc:
                if exc.code in DUPLICATE_CODES:
                    raise _Race
                if exc.code == "kind_unavailable":
                    # Not remembered: once the kind can be received, the same key goes through.
                    return _answer(key, "refused", error=exc.as_dict())
                result = exc.as_dict()
                SyncReceipt.objects.create(user=actor, key=key, kind=kind, status="refused", result=result)
                return _answer(key, "refused", error=result)
            SyncReceipt.objects.create(
                user=actor, key=key, kind=kind, status="ok", object_id=object_id, result={"detail": detail} if detail is not None else {}
            )
            return _answer(key, "ok", object_id, detail=detail)
    except (_Race, IntegrityError):
        receipt = SyncReceipt.objects.filter(user=actor, key=key).first()
        if receipt is not None:
            return _from_receipt(receipt)
        log.warning("sync: key %s of user %s collided but has no receipt yet", key, actor.pk)
        return _error(key)
    except Exception:
        log.exception("sync: item %s (%s) of user %s failed", key, kind, actor.pk)
        return _error(key)


def _error(key) -> dict:
    err = DomainError("sync_error", _("This item could not be received now; it stays on the phone and is sent again later."))
    return _answer(key, "error", error=err.as_dict())


# ---------------------------------------------------------------- what the phone keeps


def _visit_url(household_id: int) -> str:
    try:
        return reverse("fieldwork:visit_new", args=[household_id])
    except NoReverseMatch:
        return f"/fieldwork/visits/new/{household_id}/"


# The session key under which the due list remembers the grid a community worker last opened.
BUNDLE_GRIDS = "fieldwork_bundle_grids"


def bundle_grids(user, asked=(), remembered=()) -> list[int]:
    """The grids a phone's bundle covers: the grids asked for, else a grid worker's own grids,
    else the grids whose due list the user last opened (a community worker visiting in one of
    the community's grids). Only grids the user does field work in: a street officer reading a
    due list keeps nothing on the phone."""
    from regions.models import Level, Region

    from .. import access

    wanted = [int(g) for g in asked if str(g).isdigit()]
    if not wanted:
        own = access.worker_grid_ids(user)
        if own:
            return own
        wanted = [int(g) for g in remembered if str(g).isdigit()]
    if not wanted:
        return []
    paths = Region.objects.filter(pk__in=wanted[:20], level=Level.GRID).values_list("pk", "path")
    return sorted(pk for pk, path in paths if access.may_work_in(user, path))


def bundle(user, today: dt.date | None = None, grid_ids: list[int] | None = None) -> dict:
    """The due list of the user's grids (bundle_grids; a grid worker's own by default) and its
    households, compact, for the phone to keep offline: households (id, address, head, members
    for "who was met", care-tag chips, due state, last visit, the visit form's address) and the
    categories the quick reports offer."""
    from registry.models import Resident, ResidentStatus, ResidentTag

    from . import dues

    today = today or timezone.localdate()
    if grid_ids is None:
        grid_ids = bundle_grids(user)
    rows = dues.due_list(grid_ids, today) if grid_ids else []
    ids = [r.household.pk for r in rows]
    members: dict[int, list] = {}
    tags: dict[int, list] = {}
    if ids:
        for pk, name, hh in (
            Resident.objects.filter(household_id__in=ids, status=ResidentStatus.ACTIVE).order_by("household_id", "id").values_list("id", "name", "household_id")
        ):
            members.setdefault(hh, []).append([pk, name])
        for hh, name in (
            ResidentTag.objects.filter(resident__household_id__in=ids, resident__status=ResidentStatus.ACTIVE, end_date__isnull=True)
            .order_by("resident__household_id", "tag__sort", "tag__name")
            .values_list("resident__household_id", "tag__name")
        ):
            chips = tags.setdefault(hh, [])
            if name not in chips:
                chips.append(name)
    households = []
    for r in rows:
        h = r.household
        last = max((i.last_visit_on for i in r.items if i.last_visit_on), default=None)
        households.append(
            {
                "id": h.pk,
                "grid": h.region_id,
                "address": str(h.house),
                "head": h.head.name if h.head_id and h.head else "",
                "members": members.get(h.pk, []),
                "tags": tags.get(h.pk, []),
                "state": r.state(today),
                "due_on": r.due_on.isoformat() if r.due_on else None,
                "days_overdue": r.days_overdue(today),
                "last_visit": last.isoformat() if last else None,
                "rules": [[i.rule.name, i.done, i.required] for i in r.items],
                "visit_url": _visit_url(h.pk),
            }
        )
    return {
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "today": today.isoformat(),
        "grids": grid_ids,
        "households": households,
        "categories": _categories(),
    }


def _categories() -> list:
    from workorders.access import categories
    from workorders.models import Kind

    rows = [
        c
        for c in categories()["by_id"].values()
        if c.active and not c.is_group and c.kind in (Kind.INCIDENT, Kind.DEMAND)
    ]
    rows.sort(key=lambda c: (c.kind, c.sort, c.code))
    return [{"id": c.pk, "code": c.code, "name": c.name, "kind": c.kind, "must_attend": c.must_attend} for c in rows]


def forget_receipts(days: int | None = None, now: dt.datetime | None = None, batch: int = 10_000) -> int:
    """Delete the receipts older than `days` (LINLI_SYNC_RECEIPT_DAYS, 90): a phone resends an
    item only until it hears the answer, and the services are idempotent on `client_key` beyond
    that. Receipts are only ever appended, so ids follow their times: the first id young enough
    is found by halving the id range (a few primary-key lookups, no index on the time), then
    the older rows go in batches. Returns how many were deleted."""
    days = settings.LINLI_SYNC_RECEIPT_DAYS if days is None else days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    ids = SyncReceipt.objects.order_by("pk").values_list("pk", flat=True)
    lo, hi = ids.first(), SyncReceipt.objects.order_by("-pk").values_list("pk", flat=True).first()
    if lo is None:
        return 0
    # The smallest id whose receipt is not older than the cutoff (hi + 1 if all are).
    top = hi + 1
    while lo <= hi:
        mid = (lo + hi) // 2
        row = SyncReceipt.objects.filter(pk__gte=mid).order_by("pk").values_list("pk", "at").first()
        if row is None or row[1] >= cutoff:
            top, hi = (row[0] if row else top), mid - 1
        else:
            lo = row[0] + 1
    deleted = 0
    while True:
        chunk = list(SyncReceipt.objects.filter(pk__lt=top).order_by("pk").values_list("pk", flat=True)[:batch])
        if not chunk:
            return deleted
        deleted += SyncReceipt.objects.filter(pk__in=chunk).delete()[0]
