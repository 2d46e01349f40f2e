"""Input of the visit, quick-report and rule pages: the request read into the services' keyword
arguments, and the choices the forms offer. Validation of what matters is the services' job."""

import datetime as dt
import re

from django.db.models import Q
from django.utils import timezone

from linli.db import prefix_q
from regions.models import Level, Region

from .models import VisitKind

_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\]$")


def text(data, name: str, limit: int = 4000) -> str:
    return (data.get(name) or "").strip()[:limit]


def visit_kwargs(post, files) -> dict:
    """record_visit's keyword arguments from the visit form (the same names the offline queue
    sends as its payload)."""
    return {
        "visited_at": text(post, "visited_at", 40) or None,
        "kind": text(post, "kind", 20) or VisitKind.ROUTINE,
        "met": [v for v in post.getlist("met") if v],
        "met_note": text(post, "met_note", 200),
        "nobody_home": bool(post.get("nobody_home")),
        "notes": text(post, "notes"),
        "findings": text(post, "findings"),
        "finding_category": text(post, "finding_category", 20) or None,
        "finding_title": text(post, "finding_title", 200),
        "finding_urgent": bool(post.get("finding_urgent")),
        "follows_order": text(post, "follows_order", 20) or None,
        "follows_case": text(post, "follows_case", 20) or None,
        "lat": text(post, "lat", 30) or None,
        "lng": text(post, "lng", 30) or None,
        "files": files,
        "client_key": text(post, "client_key", 64),
    }


def attributes_from(data) -> dict:
    """{code: value} of the `attribute[code]` fields of a form (lists for several values)."""
    out = {}
    for key in data:
        m = _ATTRIBUTE.match(key)
        if not m:
            continue
        values = [v for v in data.getlist(key) if v not in ("", None)] if hasattr(data, "getlist") else [data[key]]
        if values:
            out[m[1]] = values if len(values) > 1 else values[0]
    return out


def local_input(value=None) -> str:
    """A datetime as the value of <input type=datetime-local> (now when not given)."""
    return timezone.localtime(value or timezone.now()).strftime("%Y-%m-%dT%H:%M")


def follow_up_choices(user, household) -> dict:
    """Open work orders and open mediation cases of the household's grid that a follow-up visit
    can name (newest first, a phone-sized list)."""
    from mediation.models import Case
    from workorders import access as wo_access
    from workorders.models import OPEN_STATUSES

    grid_path = household.region_path[: Region.steplen * Level.GRID]
    orders = list(
        wo_access.orders(user).filter(prefix_q("region_path", grid_path), status__in=OPEN_STATUSES)
        .exclude(kind="mediation").order_by("-reported_at").values("pk", "title", "reported_at")[:50]
    )
    cases = list(
        Case.objects.filter(prefix_q("region_path", grid_path))
        .filter(Q(order__status__in=OPEN_STATUSES) | Q(signed_on__isnull=False, order__closed_at__gte=timezone.now() - dt.timedelta(days=180)))
        .order_by("-order__reported_at").values("pk", "order__title", "order__reported_at")[:50]
    )
    return {"orders": orders, "cases": cases}


def grid_choices(paths, limit: int = 500) -> list[dict]:
    """{pk, name, parent} of the active grids under the paths, in tree order."""
    q = Q(pk__in=[])
    for p in paths:
        q |= prefix_q("path", p)
    rows = list(Region.objects.filter(q, level=Level.GRID, valid_to__isnull=True).order_by("path").values("pk", "name", "path")[:limit])
    parents = {r["path"][: Region.steplen * Level.COMMUNITY] for r in rows}
    names = dict(Region.objects.filter(path__in=parents).values_list("path", "name")) if parents else {}
    for r in rows:
        r["parent"] = names.get(r["path"][: Region.steplen * Level.COMMUNITY], "")
    return rows


def area_choices(paths, limit: int = 300) -> list[dict]:
    """{pk, name, level} of the districts, streets and communities a rule can be limited to."""
    q = Q(pk__in=[])
    for p in paths:
        q |= prefix_q("path", p)
    return list(
        Region.objects.filter(q, level__in=(Level.DISTRICT, Level.STREET, Level.COMMUNITY), valid_to__isnull=True)
        .order_by("path").values("pk", "name", "level")[:limit]
    )
