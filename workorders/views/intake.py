"""Intake pages: a resident's snap-and-report (随手拍) or a grid worker's report, settling a small
matter on the spot, a hotline call taken for a resident, and work assigned down from above; the
category's questions and the nearby possible duplicates while reporting."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.models import Role
from linli.errors import DomainError
from linli.pages import raise_access
from regions.models import Level, Region

from .. import access, services
from ..forms import attribute_fields, attribute_values, category_groups, integer, pick_category, point, text
from ..models import Kind, Source
from ..services import uploads
from .display import area_paths, order_page, roles, status_text


def _check_one_video(files):
    """Photos, or one short video on its own (each file checked by its content)."""
    kinds = [uploads.check(f) for f in files]
    if any(k.startswith("video/") for k in kinds) and len(kinds) > 1:
        raise DomainError("one_video", gettext_lazy("Attach photos or one short video."), field="files")


def _pick_region(user, value, roles_=None) -> Region | None:
    pk = integer(value)
    if pk is None:
        return None
    return access.place(user, pk, roles_)


def _what_and_where(post, category, lat, lng) -> dict:
    """The fields every intake form shares (report, hotline, settle on the spot)."""
    return {
        "category": category or post.get("category") or None,
        "title": text(post, "title", 200),
        "description": text(post, "description"),
        "lat": lat or None,
        "lng": lng or None,
        "address": text(post, "address", 200),
        "attributes": attribute_values(category, post),
    }


@order_page
def report(request):
    """随手拍 (resident) or a grid worker's report: category, what, photos, where."""
    user = request.user
    held = roles(user)
    grid = access.grid_of(user) if Role.GRID_WORKER in held else None
    staff = bool(held & access.STAFF_ROLES)
    if staff and grid is None:
        return redirect("workorders:hotline")
    source = Source.GRID if grid is not None else Source.PORTAL
    category = pick_category(request.POST.get("category") or request.GET.get("category"))
    error = None
    if request.method == "POST":
        lat, lng = point(request.POST)
        files = request.FILES.getlist("files")
        try:
            _check_one_video(files)
            order = services.report(
                user,
                source=source,
                region=grid if (grid is not None and not lat) else None,
                **_what_and_where(request.POST, category, lat, lng),
                urgent=bool(request.POST.get("urgent")) and grid is not None,
                files=files,
            )
        except DomainError as e:
            raise_access(e)
            error = e
        else:
            messages.success(request, _("Reported as %(number)s. You can follow it here.") % {"number": order.number})
            return redirect("workorders:detail", order.pk)
    return render(request, "workorders/report.html", {
        "mode": "grid" if grid is not None else "resident",
        "groups": category_groups(),
        "category": category,
        "fields": attribute_fields(category, request.POST if request.method == "POST" else None, error.field if error else ""),
        "error": error,
        "data": request.POST,
        "geo": access.grid_shapes(user, grid),
        "grid": grid,
    })


@order_page
@require_GET
def attribute_form(request):
    """The category's questions (htmx, when the category changes)."""
    category = pick_category(request.GET.get("category"))
    return render(request, "workorders/_attributes.html", {"fields": attribute_fields(category)})


@order_page
@require_GET
def nearby(request):
    """Open orders of the same category within 50 m and 7 days (possible duplicates)."""
    query = request.GET
    found = access.nearby_orders(query.get("category"), query.get("lat"), query.get("lng"))
    visible = set()
    if found:
        visible = set(access.orders(request.user).filter(pk__in=[o.pk for o in found]).values_list("pk", flat=True))
    rows = [{
        "number": o.number,
        "title": o.title,
        "status": status_text(o.status),
        "reported_at": timezone.localtime(o.reported_at).strftime("%m-%d %H:%M"),
        "distance": o.distance,
        "url": reverse("workorders:detail", args=[o.pk]) if o.pk in visible else "",
    } for o in found]
    if query.get("format") == "json" or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"results": rows})
    return render(request, "workorders/_nearby.html", {"rows": rows})


@order_page
def settle(request):
    """就地解决: a grid worker records a small matter and its settlement in one step."""
    user = request.user
    grid = access.grid_of(user)
    if grid is None and not (roles(user) & {Role.COMMUNITY_WORKER}):
        raise PermissionDenied
    category = pick_category(request.POST.get("category") or request.GET.get("category"))
    error = None
    if request.method == "POST":
        lat, lng = point(request.POST)
        try:
            order = services.settle_on_spot(
                user,
                region=grid if not lat else None,
                **_what_and_where(request.POST, category, lat, lng),
                note=text(request.POST, "note"),
                files=request.FILES.getlist("files"),
                after_files=request.FILES.getlist("after_files"),
            )
        except DomainError as e:
            raise_access(e)
            error = e
        else:
            messages.success(request, _("Settled on the spot and recorded as %(number)s.") % {"number": order.number})
            return redirect("workorders:detail", order.pk)
    return render(request, "workorders/settle.html", {
        "groups": category_groups(settle_only=True),
        "category": category,
        "fields": attribute_fields(category, request.POST if request.method == "POST" else None, error.field if error else ""),
        "error": error,
        "data": request.POST,
        "geo": access.grid_shapes(user, grid),
        "grid": grid,
    })


@order_page
def hotline(request):
    """A call taken by staff on a resident's behalf (source hotline)."""
    user = request.user
    paths = area_paths(user, access.AREA_ROLES)
    category = pick_category(request.POST.get("category") or request.GET.get("category"))
    error = None
    resident = None
    if request.method == "POST":
        lat, lng = point(request.POST)
        try:
            id_number = text(request.POST, "id_number", 20)
            if id_number:
                resident = access.resident_in_area(id_number, paths)
                if resident is None:
                    raise DomainError("resident_unknown", gettext_lazy("No resident with that ID number lives in your area."), field="id_number")
            region = _pick_region(user, request.POST.get("region"), set(access.AREA_ROLES))
            order = services.report(
                user,
                source=Source.HOTLINE,
                region=region if not lat else None,
                **_what_and_where(request.POST, category, lat, lng),
                urgent=bool(request.POST.get("urgent")),
                resident=resident,
                reporter_name=text(request.POST, "reporter_name", 50) or (resident.name if resident else ""),
                reporter_phone=text(request.POST, "reporter_phone", 20),
                files=request.FILES.getlist("files"),
            )
        except DomainError as e:
            raise_access(e)
            error = e
        else:
            messages.success(request, _("Hotline call recorded as %(number)s.") % {"number": order.number})
            return redirect("workorders:detail", order.pk)
    return render(request, "workorders/hotline.html", {
        "groups": category_groups(),
        "category": category,
        "fields": attribute_fields(category, request.POST if request.method == "POST" else None, error.field if error else ""),
        "error": error,
        "data": request.POST,
        "regions": access.units_in(paths),
        "geo": access.grid_shapes(user),
    })


@order_page
def assign(request):
    """上级交办: a street, bureau or department hands a task to a community or grid in its area."""
    user = request.user
    dispatch_paths = access.desk_paths(user, access.DISPATCH_ROLES)
    paths = dispatch_paths + [p for _d, p in access.department_areas(user) if p]
    if not paths:
        raise PermissionDenied
    category = pick_category(request.POST.get("category") or request.GET.get("category"), kinds=[k for k in Kind.values])
    error = None
    if request.method == "POST":
        try:
            region = _pick_region(user, request.POST.get("region"), set(access.DISPATCH_ROLES) | {Role.DEPARTMENT_HANDLER})
            if region is None:
                raise DomainError("region_required", gettext_lazy("Choose the community or grid that should do it."), field="region")
            order = services.assign_down(
                user,
                category=category or request.POST.get("category") or None,
                region=region,
                title=text(request.POST, "title", 200),
                description=text(request.POST, "description"),
                urgent=bool(request.POST.get("urgent")),
                note=text(request.POST, "note"),
            )
        except DomainError as e:
            raise_access(e)
            error = e
        else:
            messages.success(request, _("Assigned to %(place)s as %(number)s.") % {"place": order.handler_region.name, "number": order.number})
            return redirect("workorders:detail", order.pk)
    return render(request, "workorders/assign.html", {
        "groups": category_groups(kinds=[k for k in Kind.values if k != Kind.SERVICE]),
        "category": category,
        "error": error,
        "data": request.POST,
        "regions": access.units_in(paths, levels=(Level.COMMUNITY, Level.GRID)),
    })
