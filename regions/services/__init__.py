"""Every change to the tree: create, rename, move a grid, merge communities.

Moving a node changes its path; every scoped row below it carries a copy of that path, so
each move rewrites `region_path` on every model that has one, in the same transaction.
"""

import datetime as dt

from django.apps import apps
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext_lazy as _

from accounts.access import in_scope, roles_changed
from linli.errors import DomainError, Forbidden

from ..access import tree
from ..models import Level, Region
from . import geo
from .codes import validate_code


def _require_manage(actor, region: Region | None):
    if actor is None:  # system (commands, demo generator)
        return
    if not actor.has_perm("regions.manage"):
        raise Forbidden("forbidden", _("You may not change the tree of places."))
    if region is not None and not in_scope(actor, region.path):
        raise Forbidden("forbidden", _("That place is outside your area."))


def _apply_boundary(region: Region, boundary):
    if boundary in (None, "", {}):
        region.boundary = None
        region.min_lng = region.min_lat = region.max_lng = region.max_lat = None
        return
    region.boundary = geo.validate(boundary)
    region.min_lng, region.min_lat, region.max_lng, region.max_lat = geo.bbox(boundary)


def scoped_models():
    """Every model with a copied region_path (those rewritten when the tree moves)."""
    return [m for m in apps.get_models() if any(f.name == "region_path" for f in m._meta.concrete_fields)]


def _rewrite_paths(old: str, new: str):
    if old == new:
        return
    for model in scoped_models():
        model.objects.filter(region_path__startswith=old).update(
            region_path=Concat(Value(new), Substr(F("region_path"), len(old) + 1, Length(F("region_path"))))
        )


def next_grid_code(community: Region) -> str:
    taken = set(
        Region.objects.filter(code__startswith=community.code, level=Level.GRID).values_list("code", flat=True)
    )
    for n in range(1, 1000):
        code = f"{community.code}{n:03d}"
        if code not in taken:
            return code
    raise DomainError("region_full", _("This community has no free grid numbers left."))


@transaction.atomic
def create_region(actor, *, parent: Region | None, code: str, name: str, boundary=None, valid_from=None) -> Region:
    name = (name or "").strip()
    if not name:
        raise DomainError("name_missing", _("A place needs a name."), field="name")
    if len(name) > 100:
        raise DomainError("name_too_long", _("A name has at most 100 characters."), field="name")
    if parent is None:
        if actor is not None and not actor.is_superuser:
            raise Forbidden("forbidden", _("Only a system administrator creates a city."))
        level = Level.CITY
    else:
        _require_manage(actor, parent)
        if parent.level >= Level.GRID:
            raise DomainError("region_level", _("A grid has no places below it in the tree."))
        if parent.valid_to is not None:
            raise DomainError("region_inactive", _("%(name)s has been closed; add places to its successor."), name=parent.name)
        level = parent.level + 1
    if level == Level.GRID and not code:
        code = next_grid_code(parent)
    code = validate_code(level, code, parent.code if parent else None)
    if Region.objects.filter(code=code).exists():
        raise DomainError("region_code_taken", _("Code %(code)s is already used (codes are never reused)."), field="code", code=code)
    region = Region(level=level, code=code, name=name, valid_from=valid_from or dt.date.today())
    _apply_boundary(region, boundary)
    if parent is None:
        return Region.objects.add_root(instance=region)
    return Region.objects.add_child(Region.objects.get(pk=parent.pk), instance=region)


@transaction.atomic
def update_region(actor, region: Region, *, name: str | None = None, boundary=...) -> Region:
    _require_manage(actor, region)
    region = Region.objects.select_for_update().get(pk=region.pk)
    if name is not None:
        name = name.strip()
        if not name:
            raise DomainError("name_missing", _("A place needs a name."), field="name")
        region.name = name
    if boundary is not ...:
        _apply_boundary(region, boundary)
    region.save()
    return region


@transaction.atomic
def move_grid(actor, grid: Region, community: Region) -> Region:
    """Move a grid (and everything in it) to another community; it gets a code there."""
    grid = Region.objects.get(pk=grid.pk)
    community = Region.objects.get(pk=community.pk)
    if grid.level != Level.GRID or community.level != Level.COMMUNITY:
        raise DomainError("region_level", _("Only a grid moves, and only to a community."))
    _require_manage(actor, grid)
    _require_manage(actor, community)
    if community.valid_to is not None:
        raise DomainError("region_inactive", _("%(name)s has been closed; add places to its successor."), name=community.name)
    if grid.path.startswith(community.path):
        raise DomainError("region_same_parent", _("The grid already belongs to that community."))
    old_path = grid.path
    Region.objects.move(grid, community, pos="last-child")
    grid = Region.objects.get(pk=grid.pk)
    grid.code = next_grid_code(community)
    grid.save()
    _rewrite_paths(old_path, grid.path)
    # treebeard's move and the path rewrite are bulk updates (no save signals).
    tree.changed()
    roles_changed()
    return grid


@transaction.atomic
def merge_communities(actor, source: Region, target: Region, *, on: dt.date | None = None) -> Region:
    """Merge `source` into `target`: its grids and everything in them follow; `source` stays in
    the tree as a closed unit with `target` as successor, so its history still reads."""
    source = Region.objects.get(pk=source.pk)
    target = Region.objects.get(pk=target.pk)
    if source.level != Level.COMMUNITY or target.level != Level.COMMUNITY:
        raise DomainError("region_level", _("Only two communities can be merged."))
    if source.pk == target.pk:
        raise DomainError("region_same", _("A community cannot be merged into itself."))
    if source.valid_to is not None or target.valid_to is not None:
        raise DomainError("region_inactive", _("A closed community cannot take part in a merge."))
    _require_manage(actor, source)
    _require_manage(actor, target)
    for grid in list(Region.objects.get_children(source)):
        move_grid(None, grid, target)
    # Rows kept at the community itself (not in a grid) and role assignments follow too.
    from accounts.models import RoleAssignment

    for model in scoped_models():
        if model is RoleAssignment:
            continue
        if any(f.name == "region" for f in model._meta.concrete_fields):
            # By path as well: the scope index finds the rows (region has no index of its own on
            # the big registry tables).
            model.objects.filter(region_path=source.path, region=source).update(region=target, region_path=target.path)
    for ra in RoleAssignment.objects.filter(region=source):
        if not RoleAssignment.objects.filter(user=ra.user, role=ra.role, region=target).exists():
            RoleAssignment.objects.filter(pk=ra.pk).update(region=target, region_path=target.path)
    roles_changed()
    source.valid_to = on or dt.date.today()
    source.successor = target
    source.save()
    return Region.objects.get(pk=target.pk)


def point_to_grid(lng: float, lat: float) -> Region | None:
    """The active grid whose boundary contains the point, or None (from the per-process tree,
    regions/access/tree.py; the grid comes without its boundary)."""
    return tree.grid_at(float(lng), float(lat))
