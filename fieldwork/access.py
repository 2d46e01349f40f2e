"""Which field-work rows a user sees and works on.

- Staff with an area (city down to grid) see the visits, patrols, due items and figures of
  their area (accounts.access scope).
- A grid worker works on the households of the grids they are assigned to: they visit them,
  patrol them and see their due list. A community worker may also record visits in their
  community (they visit too); nobody records a visit outside their own area.
- Residents see only the public grid notice and their own evaluation form.
"""

from django.utils.translation import gettext_lazy as _

from accounts.access import assignments, get_scoped, scoped
from accounts.models import Role
from linli.errors import Forbidden
from regions.models import Region

FIELD_ROLES = {Role.GRID_WORKER, Role.COMMUNITY_WORKER}


def worker_grid_ids(user) -> list[int]:
    """The grids the user is assigned to as a grid worker."""
    return sorted({region_id for role, _p, region_id in assignments(user) if role == Role.GRID_WORKER})


def worker_grids(user) -> list[Region]:
    ids = worker_grid_ids(user)
    return list(Region.objects.filter(pk__in=ids).order_by("path")) if ids else []


def is_grid_worker(user) -> bool:
    return bool(worker_grid_ids(user))


def may_work_in(user, path: str) -> bool:
    """The user is a grid worker of this place's grid, or a community worker above it."""
    return any(role in FIELD_ROLES and path.startswith(p) for role, p, _r in assignments(user))


def require_field_area(user, path: str):
    if not may_work_in(user, path):
        raise Forbidden("outside_grid", _("That household is outside your grid."))


def visits(user):
    from .models import Visit

    return scoped(Visit.objects.all(), user)


def visit(user, pk):
    from .models import Visit

    return get_scoped(Visit.objects.select_related("household__house__building", "worker", "order", "region"), user, pk)


def patrols(user):
    from .models import Patrol

    return scoped(Patrol.objects.all(), user)


def patrol(user, pk):
    from .models import Patrol

    return get_scoped(Patrol.objects.select_related("worker", "region"), user, pk)


def resident_home(request, grid) -> dict:
    """A resident's home: the ways to their grid worker (rate them; the public grid notice, once
    the community has written one)."""
    from django.urls import reverse

    from .models import GridProfile

    links = [{"label": _("Rate my grid worker"), "url": reverse("fieldwork:evaluate"), "icon": "people", "needs_worker": True}]
    slug = GridProfile.objects.filter(grid=grid).values_list("slug", flat=True).first() if grid is not None else None
    if slug:
        links.append({"label": _("Grid notice"), "url": reverse("fieldwork:notice", args=[slug]), "icon": "eye", "needs_worker": False})
    return {"grid_links": links}
