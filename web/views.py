"""Home pages, one per role. Each shows the user's own place and the way into their work: the
buttons and the parts the apps registered for that home (linli.hooks); no figure here scans a
big table, and counts stay within one grid."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from accounts.access import holders
from accounts.models import Role
from linli import hooks
from regions import access as places
from regions.models import Level

from .context import _allowed, primary_role


def _buttons(request, page: str, region) -> list[dict]:
    """The registered buttons of a home page the user may use, grouped by their heading."""
    groups: dict = {}
    for a in hooks.actions(page):
        if not _allowed(request.user, a.perm):
            continue
        args = list(a.args) + ([region.pk] if a.region_arg and region is not None else [])
        try:
            url = reverse(a.url_name, args=args)
        except NoReverseMatch:  # an app's page not built yet: no broken button
            continue
        if a.region_query and region is not None:
            url += f"?region={region.pk}"
        groups.setdefault(a.group, []).append({"label": a.label, "url": url, "icon": a.icon, "primary": a.primary, "note": a.note})
    return [{"title": title, "buttons": buttons} for title, buttons in groups.items()]


def _home(request, template: str, page: str, region, **ctx):
    ctx.update(hooks.home_parts(page, request, region))
    ctx.update(region=region, groups=_buttons(request, page, region))
    return render(request, template, ctx)


@login_required
def home(request):
    ra = primary_role(request.user)
    if ra is None:
        return render(request, "web/home_none.html")
    if ra.role == Role.RESIDENT:
        return _resident_home(request, ra)
    if ra.role == Role.DEPARTMENT_HANDLER:
        return _home(request, "web/home_department.html", "department", ra.region, ra=ra)
    if ra.role == Role.GRID_WORKER:
        return _home(request, "web/home_grid.html", "grid", ra.region, community=places.parent(ra.region))
    if ra.role == Role.COMMUNITY_WORKER:
        return _home(request, "web/home_community.html", "community", ra.region, grids=places.children(ra.region))
    return _home(request, "web/home_admin.html", "admin", ra.region, children=places.children(ra.region))


def _resident_home(request, ra):
    me = request.user.resident
    grid = me.region if me else ra.region
    if grid is not None and grid.level != Level.GRID:
        grid = None
    workers = holders([Role.GRID_WORKER], grid.path) if grid is not None else []
    return _home(request, "web/home_resident.html", "resident", grid, me=me, grid=grid, workers=workers)
