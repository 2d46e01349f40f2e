"""Input of the visit and quick-report pages: the request read into the services' keyword
arguments (the choices the forms offer are read through access.py). Validation of what matters
is the services' job."""

import re

from django.utils import timezone

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
