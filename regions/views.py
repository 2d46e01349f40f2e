"""The tree browser: a node with its ancestors and children, and the forms that change the tree.

Every node is fetched inside the user's scope (outside it is a 404). Changes go through
regions/services.py; a refused change shows the service's message on the form, input kept.
"""

import json
import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import in_scope
from linli.errors import DomainError, Forbidden, NotFound

from . import access, hooks, services
from .forms import BoundaryForm, ChildForm, CommunityChoiceForm, LocateForm, RenameForm, community_choices
from .models import Level, Region
from .services import geo


def _require_staff(user):
    if not access.is_staff(user):
        raise PermissionDenied


def _node(user, pk) -> Region:
    _require_staff(user)
    try:
        return access.place(user, pk)
    except NotFound:
        raise Http404


def _form_error(form, err: DomainError):
    if isinstance(err, Forbidden):
        raise PermissionDenied(err.text())
    if isinstance(err, NotFound):
        raise Http404
    form.add_error(err.field if err.field in form.fields else None, err.text())


def outline(boundary) -> dict | None:
    """A GeoJSON boundary as an SVG path in a 100-unit box (north up, longitude scaled by cos φ)."""
    if not boundary:
        return None
    try:
        polys = geo.polygons(boundary)
        rings = [[(float(p[0]), float(p[1])) for p in ring] for poly in polys for ring in poly]
    except (DomainError, TypeError, ValueError, IndexError):
        return None
    pts = [p for ring in rings for p in ring]
    if not pts:
        return None
    min_x, max_x = min(p[0] for p in pts), max(p[0] for p in pts)
    min_y, max_y = min(p[1] for p in pts), max(p[1] for p in pts)
    k = math.cos(math.radians((min_y + max_y) / 2))
    w, h = (max_x - min_x) * k, max_y - min_y
    size = max(w, h) or 1.0
    scale = 100.0 / size
    d = []
    for ring in rings:
        xy = [f"{(x - min_x) * k * scale:.2f} {(max_y - y) * scale:.2f}" for x, y in ring]
        d.append("M" + " L".join(xy) + " Z")
    width, height = max(w * scale, 1.0), max(h * scale, 1.0)
    return {"d": " ".join(d), "viewbox": f"-3 -3 {width + 6:.2f} {height + 6:.2f}"}


def _communities_for(user, *, exclude=()) -> list:
    communities = access.communities(user, exclude=exclude)
    streets = access.by_path({c.path[: 3 * Region.steplen] for c in communities})
    return community_choices(communities, streets)


def _node_context(request, node: Region, **forms) -> dict:
    user = request.user
    chain = node.ancestors_and_self()
    crumbs = [{"region": r, "link": in_scope(user, r.path)} for r in chain[:-1]]
    children = access.children(node)
    can_manage = user.has_perm("regions.manage") and in_scope(user, node.path)
    ctx = {
        "node": node,
        "crumbs": crumbs,
        "children": children,
        "active_children": sum(1 for c in children if c.valid_to is None),
        "successor": node.successor,
        "successor_link": bool(node.successor_id and in_scope(user, node.successor.path)),
        "predecessors": list(node.predecessors.all().order_by("code")),
        "outline": outline(node.boundary),
        "can_manage": can_manage,
        "open": forms.pop("open", ""),
        # where the language switch returns to (the form views answer POST only)
        "page_url": reverse("regions:node", args=[node.pk]),
    }
    if can_manage:
        child_level = node.level + 1
        ctx["child_level"] = child_level
        ctx["child_level_label"] = Level(child_level).label if child_level <= Level.GRID else ""
        if child_level == Level.GRID and node.valid_to is None:
            try:
                ctx["next_grid_code"] = services.next_grid_code(node)
            except DomainError:
                ctx["next_grid_code"] = ""
        ctx["child_form"] = forms.get("child_form") or ChildForm()
        ctx["rename_form"] = forms.get("rename_form") or RenameForm(initial={"name": node.name})
        ctx["boundary_form"] = forms.get("boundary_form") or BoundaryForm(
            initial={"boundary": json.dumps(node.boundary, ensure_ascii=False) if node.boundary else ""}
        )
    return ctx


@login_required
def index(request):
    _require_staff(request.user)
    region = access.home_region(request.user)
    if region is None:
        raise PermissionDenied
    return redirect("regions:node", pk=region.pk)


@login_required
def node(request, pk):
    n = _node(request.user, pk)
    return render(request, "regions/node.html", _node_context(request, n))


@login_required
@require_POST
def create_child(request, pk):
    parent = _node(request.user, pk)
    form = ChildForm(request.POST)
    if form.is_valid():
        try:
            child = services.create_region(
                request.user,
                parent=parent,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                boundary=form.cleaned_data["boundary"],
            )
        except DomainError as err:
            _form_error(form, err)
        else:
            messages.success(request, _("%(name)s was added with code %(code)s.") % {"name": child.name, "code": child.code})
            return redirect("regions:node", pk=parent.pk)
    return render(request, "regions/node.html", _node_context(request, parent, child_form=form, open="create"), status=400)


@login_required
@require_POST
def rename(request, pk):
    n = _node(request.user, pk)
    form = RenameForm(request.POST)
    if form.is_valid():
        try:
            services.update_region(request.user, n, name=form.cleaned_data["name"])
        except DomainError as err:
            _form_error(form, err)
        else:
            messages.success(request, _("The name was changed."))
            return redirect("regions:node", pk=n.pk)
    return render(request, "regions/node.html", _node_context(request, n, rename_form=form, open="rename"), status=400)


@login_required
@require_POST
def boundary(request, pk):
    n = _node(request.user, pk)
    form = BoundaryForm(request.POST)
    if form.is_valid():
        try:
            services.update_region(request.user, n, boundary=form.cleaned_data["boundary"])
        except DomainError as err:
            _form_error(form, err)
        else:
            messages.success(request, _("The boundary was saved.") if form.cleaned_data["boundary"] else _("The boundary was removed."))
            return redirect("regions:node", pk=n.pk)
    return render(request, "regions/node.html", _node_context(request, n, boundary_form=form, open="boundary"), status=400)


def _require_manage(user):
    if not user.has_perm("regions.manage"):
        raise PermissionDenied


@login_required
def move(request, pk):
    """Move a grid to another community of the user's area."""
    grid = _node(request.user, pk)
    _require_manage(request.user)
    if grid.level != Level.GRID:
        raise Http404
    parent = access.parent(grid)
    choices = _communities_for(request.user, exclude={parent.pk})
    form = CommunityChoiceForm(request.POST or None, choices=choices)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            target = access.place(request.user, form.cleaned_data["community"])
            try:
                moved = services.move_grid(request.user, grid, target)
            except DomainError as err:
                _form_error(form, err)
            else:
                messages.success(
                    request,
                    _("%(grid)s now belongs to %(community)s; its new code is %(code)s.")
                    % {"grid": moved.name, "community": target.name, "code": moved.code},
                )
                return redirect("regions:node", pk=moved.pk)
        status = 400
    return render(request, "regions/move.html", {"node": grid, "parent": parent, "form": form}, status=status)


def merge_summary(source: Region) -> dict:
    """What a merge moves: the grids, and how many rows of each kind the apps built on the tree
    keep under the community (regions.hooks)."""
    return {"grids": sorted(access.children(source), key=lambda g: g.code), "contents": hooks.contents_of(source.path)}


@login_required
def merge(request, pk):
    """Merge a community into another: choose, confirm (seeing what moves), then merge."""
    source = _node(request.user, pk)
    _require_manage(request.user)
    if source.level != Level.COMMUNITY:
        raise Http404
    choices = _communities_for(request.user, exclude={source.pk})
    form = CommunityChoiceForm(request.POST or None, choices=choices)
    ctx = {"node": source, "form": form}
    if request.method == "POST":
        if form.is_valid():
            target = access.place(request.user, form.cleaned_data["community"])
            if not form.cleaned_data["confirm"]:
                ctx.update(target=target, summary=merge_summary(source))
                return render(request, "regions/merge_confirm.html", ctx)
            try:
                services.merge_communities(request.user, source, target)
            except DomainError as err:
                _form_error(form, err)
            else:
                messages.success(
                    request,
                    _("%(source)s was merged into %(target)s. It stays in the tree as a closed unit.")
                    % {"source": source.name, "target": target.name},
                )
                return redirect("regions:node", pk=target.pk)
        return render(request, "regions/merge.html", ctx, status=400)
    return render(request, "regions/merge.html", ctx)


@login_required
def locate(request):
    """Which grid of the user's area contains a point (never answers outside the area): an
    administrator's check of the grids' boundaries."""
    _require_staff(request.user)
    if not request.user.has_perm("regions.locate"):
        raise PermissionDenied
    form = LocateForm(request.GET or None)
    result, searched = None, False
    if form.is_bound and form.is_valid():
        searched = True
        lng, lat = form.cleaned_data["lng"], form.cleaned_data["lat"]
        result = access.grids_at(request.user, lng, lat)
        if result is not None:
            result.chain = [r for r in result.ancestors_and_self() if r.level >= Level.STREET]
    return render(request, "regions/locate.html", {"form": form, "result": result, "searched": searched}, status=400 if form.errors else 200)
