"""Open311 GeoReport v2 at /open311/v2/ — the open standard for citizen service requests.

    GET  services.{json,xml}                  the service list (incident and demand categories)
    GET  services/{service_code}.{json,xml}   a service definition (its attribute schema)
    POST requests.{json,xml}                  create a request (api_key required)
    GET  requests.{json,xml}                  requests, newest first; filters service_request_id
                                              (comma list; overrides the others), service_code,
                                              start_date, end_date (default: the last 90 days),
                                              status (open, closed); page (from 1) and page_size
                                              (default 50, at most 200)
    GET  requests/{service_request_id}.{json,xml}
    GET  tokens/{token}.{json,xml}            the request a token stands for

Plain Django views rather than ninja: the spec puts the format in a suffix and has its own error
shape, `[{"code": 400, "description": "..."}]` (XML `<errors><error>...`), with 400, 403 and
404; descriptions are Chinese, then English.

`service_request_id` is the order's number (yyyymmdd + id). The `api_key` is an API token
(accounts.ApiToken, issued with `accounts.services.issue_token`): its user is the submitting
client and must hold a role. A resident's key reports as that resident; a staff key as staff.
Requests are created synchronously, so POST answers with the service_request_id at once.

Reads are public and show no personal data: no reporter name, phone or account; mediation
cases, one-window applications and supervision findings are not published at all.
"""

import datetime as dt
import json
import re
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.urls import re_path
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from accounts.access import assignments, identify
from linli.errors import DomainError
from workorders import services
from workorders.access import categories, public_orders
from workorders.models import ENDED_STATUSES, Attachment, Datatype, Kind, Source, Status, Transition, WorkOrder
from workorders.services import routing

PUBLIC_KINDS = (Kind.INCIDENT, Kind.DEMAND)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
DEFAULT_DAYS = 90

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"

# Tag of each item of a list, by the list's tag.
_ITEM_TAG = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "discovery": "endpoint",
    "endpoints": "endpoint",
    "formats": "format",
}

# What a reader sees for a status when the latest step left no note.
# The steps whose note is addressed to the reporter (and so may be published as status_notes).
PUBLIC_NOTE_ACTIONS = {"void", "duplicate", "close", "settle_on_spot"}

STATUS_PHRASES = {
    Status.REPORTED: _("Received, waiting to be filed"),
    Status.FILED: _("Filed, waiting to be dispatched"),
    Status.DISPATCHED: _("Dispatched to the handling unit"),
    Status.IN_PROGRESS: _("Being handled"),
    Status.HANDLED: _("Handled, waiting for verification on site"),
    Status.VERIFIED: _("Verified on site, about to be closed"),
    Status.SUSPENDED: _("Suspended with approval"),
    Status.CLOSED: Status.CLOSED.label,
    Status.VOIDED: _("Not taken up"),
    Status.DUPLICATE: _("Merged with an earlier request on the same matter"),
}


class Open311Error(Exception):
    """A refusal: an HTTP status (400, 403, 404) and a message, described in Chinese and English."""

    def __init__(self, http_status: int, message=None, *, text: str | None = None, **params):
        self.http_status = http_status
        self.message = message
        self.text = text
        self.params = params

    def description(self) -> str:
        if self.text is not None:
            return self.text
        return _bilingual(lambda: str(self.message) % self.params if self.params else str(self.message))


def _bilingual(render) -> str:
    with translation.override("zh-hans"):
        zh = render()
    with translation.override("en"):
        en = render()
    return en if zh == en else f"{zh} / {en}"


def _from_domain(err: DomainError) -> Open311Error:
    text = _bilingual(err.text)
    if err.field and err.field.startswith("attribute[") and err.field not in text:
        text += f" ({err.field})"
    return Open311Error({401: 403, 403: 403, 404: 404}.get(err.status, 400), text=text)


# ---------------------------------------------------------------- rendering


def _iso(value) -> str | None:
    """ISO-8601 with the zone (+08:00)."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _xml_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _xml(tag: str, value) -> str:
    if isinstance(value, list):
        item = _ITEM_TAG.get(tag, "item")
        return f"<{tag}>" + "".join(_xml(item, v) for v in value) + f"</{tag}>"
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(_xml(k, v) for k, v in value.items()) + f"</{tag}>"
    return f"<{tag}>{_xml_text(value)}</{tag}>"


def _respond(fmt: str, data, root: str, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + _xml(root, data)
        response = HttpResponse(body, content_type=XML_TYPE, status=status)
    else:
        response = HttpResponse(json.dumps(data, ensure_ascii=False), content_type=JSON_TYPE, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _error(fmt: str, err: Open311Error) -> HttpResponse:
    return _respond(fmt, [{"code": err.http_status, "description": err.description()}], "errors", status=err.http_status)


def open311_view(methods=("GET",)):
    """Answer in the requested format; refusals in the spec's error shape."""

    def wrap(view):
        def handler(request, *args, fmt="json", **kwargs):
            if request.method not in methods and not (request.method == "HEAD" and "GET" in methods):
                return _error(fmt, Open311Error(400, _("Method not allowed.")))
            try:
                with translation.override("zh-hans"):
                    return view(request, fmt, *args, **kwargs)
            except Open311Error as err:
                return _error(fmt, err)
            except DomainError as err:
                return _error(fmt, _from_domain(err))

        handler.__name__ = view.__name__
        return csrf_exempt(handler)

    return wrap


# ---------------------------------------------------------------- services


def _public_categories() -> list:
    tree = categories()
    return [c for c in tree["by_code"].values() if not c.is_group and c.kind in PUBLIC_KINDS]


def _public_category(code: str):
    cat = categories(refresh_if_missing=code)["by_code"].get(code)
    if cat is None or cat.is_group or cat.kind not in PUBLIC_KINDS:
        return None
    return cat


def _service(cat) -> dict:
    return {
        "service_code": cat.code,
        "service_name": cat.name,
        "description": cat.description or cat.name,
        "metadata": any(a.variable for a in cat.attributes.all()),
        "type": "realtime",
        "keywords": cat.keywords,
        "group": cat.parent.name if cat.parent_id and cat.parent is not None else str(cat.get_kind_display()),
    }


@open311_view()
def service_list(request, fmt):
    cats = sorted(_public_categories(), key=lambda c: (c.parent.sort if c.parent_id and c.parent else c.sort, c.sort, c.code))
    return _respond(fmt, [_service(c) for c in cats], "services")


DATATYPE_HINTS = {
    Datatype.NUMBER: _("A number"),
    Datatype.DATETIME: _("A date and time such as 2026-05-01T09:30+08:00"),
    Datatype.SINGLEVALUELIST: _("One key from the values"),
    Datatype.MULTIVALUELIST: _("One or more keys from the values (attribute[code][]=key)"),
}


def _definition_attribute(a) -> dict:
    hint = DATATYPE_HINTS.get(a.datatype)
    out = {
        "variable": a.variable,
        "code": a.code,
        "datatype": a.datatype,
        "required": a.required,
        "datatype_description": str(hint) if hint else None,
        "order": a.order,
        "description": a.description,
    }
    if a.datatype in (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST):
        out["values"] = [{"key": str(v.get("key")), "name": v.get("name", "")} for v in a.values or []]
    return out


@open311_view()
def service_definition(request, fmt, code):
    cat = _public_category(code)
    if cat is None:
        raise Open311Error(404, _("There is no service with service_code %(code)s."), code=code)
    return _respond(fmt, {"service_code": cat.code, "attributes": [_definition_attribute(a) for a in cat.attributes.all()]}, "service_definition")


# ---------------------------------------------------------------- reading requests


def _agency(o: WorkOrder) -> str:
    return " ".join(p for p in (o.handler_region.name, o.department) if p)


def _notice(o: WorkOrder) -> str:
    if o.status in ENDED_STATUSES:
        return ""
    if o.deadline:
        return str(_("Handled by %(agency)s; to be finished by %(when)s.")) % {
            "agency": _agency(o), "when": timezone.localtime(o.deadline).strftime("%Y-%m-%d %H:%M"),
        }
    return str(_("Handled by %(agency)s.")) % {"agency": _agency(o)}


def _extras(orders: list[WorkOrder], request) -> dict:
    """Per order: the latest status note, and the first photo (or the media_url given)."""
    ids = [o.pk for o in orders]
    notes: dict[int, str] = {}
    media: dict[int, str] = {}
    rows = (
        Transition.objects.filter(order_id__in=ids)
        .order_by("order_id", "at", "id")
        .values_list("order_id", "action", "note", "data")
    )
    for order_id, action, note, data in rows:
        # Only what was written for the reporter is published: why a report was not taken up,
        # the closing reply, how it was settled on the spot. Staff's notes to each other (filing,
        # dispatch, approvals) stay inside.
        if note and action in PUBLIC_NOTE_ACTIONS:
            notes[order_id] = note
        if action == "report" and isinstance(data, dict) and data.get("media_url"):
            media.setdefault(order_id, data["media_url"])
    photos: dict[int, str] = {}
    for att in Attachment.objects.filter(order_id__in=ids, content_type__startswith="image/").order_by("order_id", "at", "id"):
        if att.order_id not in photos:
            photos[att.order_id] = request.build_absolute_uri(att.file.url)
    return {"notes": notes, "media": {**media, **photos}}


def _request(o: WorkOrder, extras: dict) -> dict:
    return {
        "service_request_id": o.number,
        "status": "closed" if o.status in ENDED_STATUSES else "open",
        "status_notes": extras["notes"].get(o.pk) or str(STATUS_PHRASES.get(o.status, "")),
        "service_name": o.category.name,
        "service_code": o.category.code,
        "description": o.description,
        "agency_responsible": _agency(o),
        "service_notice": _notice(o),
        "requested_datetime": _iso(o.reported_at),
        "updated_datetime": _iso(o.updated_at),
        "expected_datetime": _iso(o.deadline),
        "address": o.address or o.region.name,
        "address_id": None,
        "zipcode": None,
        "lat": o.lat,
        "long": o.lng,
        "media_url": extras["media"].get(o.pk),
    }


def _public_orders():
    return public_orders(PUBLIC_KINDS)


def _order_by_number(number: str) -> WorkOrder | None:
    pk = WorkOrder.pk_from_number(number)
    if pk is None:
        return None
    o = _public_orders().filter(pk=pk).first()
    return o if o is not None and o.number == number.strip() else None


def _when(raw: str, name: str, end: bool = False) -> dt.datetime:
    raw = raw.strip().replace(" ", "+") if "T" in raw else raw.strip()
    when = None
    try:
        when = parse_datetime(raw)
        if when is None:
            day = parse_date(raw)
            if day is not None:
                when = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    except ValueError:
        when = None
    if when is None:
        raise Open311Error(400, _("%(name)s is not a date and time in W3C format, such as 2026-01-01T00:00:00+08:00."), name=name)
    return timezone.make_aware(when) if timezone.is_naive(when) else when


def _positive(request, name: str, default: int, top: int | None = None) -> int:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1 or (top is not None and int(raw) > top):
        if top is not None:
            raise Open311Error(400, _("%(name)s must be a whole number from 1 to %(top)s."), name=name, top=top)
        raise Open311Error(400, _("%(name)s must be a whole number from 1."), name=name)
    return int(raw)


def _list(raw: str) -> list[str]:
    return [w.strip() for w in raw.split(",") if w.strip()]


def _render_requests(request, fmt, orders: list[WorkOrder]) -> HttpResponse:
    extras = _extras(orders, request)
    return _respond(fmt, [_request(o, extras) for o in orders], "service_requests")


def _search(request, fmt):
    q = request.GET
    qs = _public_orders()
    if q.get("service_request_id", "").strip():
        numbers = _list(q["service_request_id"])[:MAX_PAGE_SIZE]
        pks = [WorkOrder.pk_from_number(n) for n in numbers]
        found = {o.number: o for o in qs.filter(pk__in=[p for p in pks if p is not None and p < 2**63])}
        return _render_requests(request, fmt, [found[n] for n in numbers if n in found])
    if q.get("service_code", "").strip():
        ids = []
        for code in _list(q["service_code"]):
            cat = _public_category(code)
            if cat is None:
                raise Open311Error(400, _("There is no service with service_code %(code)s."), code=code)
            ids.append(cat.pk)
        qs = qs.filter(category_id__in=ids)
    start = _when(q["start_date"], "start_date") if q.get("start_date", "").strip() else None
    end = _when(q["end_date"], "end_date", end=True) if q.get("end_date", "").strip() else None
    # GeoReport v2: a search covers at most 90 days; with one end given, the other is 90 days
    # away; with none, the last 90 days.
    span = dt.timedelta(days=DEFAULT_DAYS)
    if start is not None and end is not None:
        if start > end:
            raise Open311Error(400, _("start_date is after end_date."))
        if end - start > span:
            raise Open311Error(400, _("The date range may span at most %(days)s days."), days=DEFAULT_DAYS)
    elif start is not None:
        end = start + span
    elif end is not None:
        start = end - span
    else:
        start = timezone.now() - span
    qs = qs.filter(reported_at__gte=start)
    if end is not None:
        qs = qs.filter(reported_at__lte=end)
    if q.get("status", "").strip():
        wanted = set(_list(q["status"]))
        if not wanted <= {"open", "closed"}:
            raise Open311Error(400, _("status is open or closed (or both, comma separated)."))
        if wanted == {"open"}:
            qs = qs.exclude(status__in=ENDED_STATUSES)
        elif wanted == {"closed"}:
            qs = qs.filter(status__in=ENDED_STATUSES)
    page = _positive(request, "page", 1)
    size = _positive(request, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    offset = (page - 1) * size
    return _render_requests(request, fmt, list(qs.order_by("-pk")[offset : offset + size]))


@open311_view()
def request_detail(request, fmt, request_id):
    o = _order_by_number(request_id)
    if o is None:
        raise Open311Error(404, _("There is no service request %(id)s."), id=request_id)
    return _render_requests(request, fmt, [o])


@open311_view()
def token_detail(request, fmt, token):
    o = None
    if re.fullmatch(r"[0-9a-fA-F-]{32,36}", token or ""):
        o = _public_orders().filter(token=token).first()
    if o is None:
        raise Open311Error(404, _("There is no request for token %(token)s."), token=token)
    return _respond(fmt, [{"service_request_id": o.number, "token": str(o.token)}], "service_requests")


# ---------------------------------------------------------------- creating requests

_ATTRIBUTE_FIELD = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
_MEDIA_URL = re.compile(r"^https?://\S{1,490}$")


def _client_of(request):
    key = (request.POST.get("api_key") or request.GET.get("api_key") or "").strip()
    if not key:
        raise Open311Error(403, _("api_key is required."))
    user = identify(key)
    if user is None:
        raise Open311Error(403, _("The api_key is not valid (unknown, expired or revoked)."))
    if not assignments(user):
        raise Open311Error(403, _("This api_key may not submit requests: its account has no role."))
    return user


def _attributes(post) -> dict:
    out = {}
    for key in post:
        match = _ATTRIBUTE_FIELD.match(key)
        if match:
            values = post.getlist(key)
            out[match[1]] = values if (match[2] or len(values) > 1) else values[0]
    return out


def _create(request, fmt):
    post = request.POST
    user = _client_of(request)
    code = (post.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, _("service_code is required."))
    cat = _public_category(code)
    if cat is None:
        raise Open311Error(400, _("There is no service with service_code %(code)s."), code=code)
    lat, lng = (post.get("lat") or "").strip(), (post.get("long") or "").strip()
    address = (post.get("address_string") or "").strip()
    region = None
    if not (lat or lng):
        if not address:
            raise Open311Error(400, _("Give the location: lat and long, or address_string."))
        try:
            region = routing.place_of_address(address)
        except DomainError as err:
            raise _from_domain(err)
    media_url = (post.get("media_url") or "").strip()
    if media_url and not _MEDIA_URL.match(media_url):
        raise Open311Error(400, _("media_url must be an http or https address."))
    first, last = (post.get("first_name") or "").strip(), (post.get("last_name") or "").strip()
    # 张 + 三 reads 张三; John + Smith reads John Smith.
    name = f"{first} {last}".strip() if (first + last).isascii() else last + first
    order = services.report(
        user,
        category=cat,
        source=Source.OPEN311,
        description=post.get("description") or "",
        region=region,
        lat=lat or None,
        lng=lng or None,
        address=address,
        attributes=_attributes(post),
        reporter_name=name or str(user),
        reporter_phone=post.get("phone") or "",
        files=request.FILES.getlist("media"),
        client=user.username,
        media_url=media_url,
    )
    notice = _notice(order)
    return _respond(fmt, [{"service_request_id": order.number, "service_notice": notice, "account_id": None}], "service_requests")


@open311_view(methods=("GET", "POST"))
def requests_view(request, fmt):
    if request.method == "POST":
        return _create(request, fmt)
    return _search(request, fmt)


@open311_view()
def discovery(request, fmt):
    base = request.build_absolute_uri("/open311/v2/")
    return _respond(fmt, {
        "changeset": "2026-01-01T00:00:00+08:00",
        "contact": "",
        "key_service": "",
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base, "changeset": "2026-01-01T00:00:00+08:00",
                       "type": "production", "formats": ["application/json", "text/xml"]}],
    }, "discovery")


@csrf_exempt
def unknown(request, path=""):
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return _error(fmt, Open311Error(404, _("There is no such Open311 address; paths end in .json or .xml.")))


_F = r"\.(?P<fmt>json|xml)$"
urlpatterns = [
    re_path(r"^discovery" + _F, discovery, name="open311-discovery"),
    re_path(r"^services" + _F, service_list, name="open311-services"),
    re_path(r"^services/(?P<code>[^/]+?)" + _F, service_definition, name="open311-service"),
    re_path(r"^requests" + _F, requests_view, name="open311-requests"),
    re_path(r"^requests/(?P<request_id>[^/]+?)" + _F, request_detail, name="open311-request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + _F, token_detail, name="open311-token"),
    re_path(r"^(?P<path>.*)$", unknown),
]
