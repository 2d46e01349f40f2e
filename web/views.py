"""Home pages, one per role. Each shows the user's own place and the way into their work; no
figure here scans a big table (dashboards read rollups later); counts stay within one grid."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from accounts.models import Role, RoleAssignment
from regions.models import Level, Region
from registry.models import Building, CareTag, Household, Resident, ResidentStatus, ResidentTag

from .context import primary_role

# Care-tag shortcuts on the community and grid home pages (codes of registry.CareTag rows).
CARE_SHORTCUTS = ["elderly", "elderly80", "dibao", "tekun", "empty_nest", "living_alone", "severe_disabled", "left_behind"]


def care_tags():
    tags = {t.code: t for t in CareTag.objects.filter(code__in=CARE_SHORTCUTS, active=True)}
    return [tags[c] for c in CARE_SHORTCUTS if c in tags]


def _children(region: Region):
    return list(Region.objects.filter(path__startswith=region.path, depth=region.depth + 1).order_by("valid_to", "code"))


@login_required
def home(request):
    ra = primary_role(request.user)
    if ra is None:
        return render(request, "web/home_none.html")
    if ra.role == Role.RESIDENT:
        return _resident_home(request, ra)
    if ra.role == Role.DEPARTMENT_HANDLER:
        return render(request, "web/home_department.html", {"ra": ra, "region": ra.region})
    if ra.role == Role.GRID_WORKER:
        return _grid_home(request, ra.region)
    if ra.role == Role.COMMUNITY_WORKER:
        return render(
            request,
            "web/home_community.html",
            {"region": ra.region, "grids": _children(ra.region), "tags": care_tags()},
        )
    return render(request, "web/home_admin.html", {"region": ra.region, "children": _children(ra.region)})


def _grid_home(request, grid: Region):
    path = grid.path
    counts = {
        "buildings": Building.objects.filter(region_path__startswith=path, archived_at__isnull=True).count(),
        "households": Household.objects.filter(region_path__startswith=path, dissolved_on__isnull=True).count(),
        "residents": Resident.objects.filter(region_path__startswith=path, status=ResidentStatus.ACTIVE).count(),
    }
    tags = care_tags()
    per_tag = dict(
        ResidentTag.objects.filter(region_path__startswith=path, end_date__isnull=True, tag__in=tags)
        .values_list("tag_id")
        .annotate(n=Count("id"))
    )
    for t in tags:
        t.count = per_tag.get(t.pk, 0)
    return render(request, "web/home_grid.html", {"region": grid, "community": Region.objects.get_parent(grid), "counts": counts, "tags": tags})


def _resident_home(request, ra: RoleAssignment):
    me = request.user.resident
    household = me.household if me and me.household_id else None
    members = []
    if household is not None:
        members = list(
            Resident.objects.filter(household=household, status=ResidentStatus.ACTIVE).order_by("relation", "birth_date")
        )
        members.sort(key=lambda r: (r.relation != "head", r.birth_date))
    grid = me.region if me else ra.region
    if grid is not None and grid.level != Level.GRID:
        grid = None
    workers = []
    if grid is not None:
        workers = [
            a.user
            for a in RoleAssignment.objects.filter(role=Role.GRID_WORKER, region=grid).select_related("user").order_by("id")
        ]
    return render(
        request,
        "web/home_resident.html",
        {"me": me, "household": household, "members": members, "grid": grid, "workers": workers, "grid_notice_url": _notice_url(grid)},
    )


def _notice_url(grid) -> str | None:
    """The public notice (网格公示) of the resident's grid, once its community has written one."""
    if grid is None:
        return None
    from django.urls import NoReverseMatch, reverse

    from fieldwork.models import GridProfile

    slug = GridProfile.objects.filter(grid=grid).values_list("slug", flat=True).first()
    if not slug:
        return None
    try:
        return reverse("fieldwork:notice", args=[slug])
    except NoReverseMatch:
        return None
