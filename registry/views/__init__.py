"""Registry pages, one module a topic: residents (search, export, the resident page and its
events), places (the drill-down grid → building → house → household), organisations, and the
import.

Views parse input, call registry.services, render. Rows come through registry.access, so an id
outside the user's area is a 404; a missing permission is a 403.
"""

from linli.pages import page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def registry_view(perm: str = "registry.view"):
    """Login required; `perm` or 403; access-layer NotFound → 404, Forbidden → 403."""
    return page(perm)


def to_int(value) -> int | None:
    """A number from the query string, or None."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
