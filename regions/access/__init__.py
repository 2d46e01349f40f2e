"""The places a user may see: the tree's nodes inside their scope, their home node, and their
role rows with the places (from the per-process tree, tree.py)."""

from accounts.access import ROW_FIELDS, assignments, get_scoped, raw_roles, scope_paths, scoped
from accounts.models import Role, RoleAssignment

from ..models import Level, Region
from ..services import geo
from . import tree


def assignment_rows(user) -> list[RoleAssignment]:
    """The user's RoleAssignment rows with their places (without boundaries, from the
    per-process tree), built from the same one query as accounts.access.assignments() and cached
    beside it: the page frame shows the role and place."""
    if not user or not user.is_authenticated:
        return []
    rows = getattr(user, "_linli_role_objects", None)
    if rows is None:
        rows = []
        for values in raw_roles(user):
            ra = RoleAssignment.from_db(None, ROW_FIELDS, values)
            ra.region = tree.unit(ra.region_path)
            rows.append(ra)
        user._linli_role_objects = rows
    return rows


def home_region(user) -> Region | None:
    """The node of the user's widest staff assignment (the start of their tree browser)."""
    rows = sorted(assignments(user), key=lambda a: len(a[1]))
    for role, _path, region_id in rows:
        if role != Role.RESIDENT:
            return Region.objects.get(pk=region_id)
    return None


def is_staff(user) -> bool:
    """The user has an area of the tree (a staff role)."""
    return bool(scope_paths(user))


def places(user):
    """Nodes of the tree inside the user's scope."""
    return scoped(Region.objects.all(), user, field="path")


def place(user, pk) -> Region:
    """One node inside the user's scope; NotFound otherwise."""
    return get_scoped(Region.objects.all(), user, pk, field="path")


def communities(user, *, exclude=()) -> list[Region]:
    """The active communities of the user's area, in tree order."""
    qs = places(user).filter(level=Level.COMMUNITY, valid_to__isnull=True).order_by("path")
    return [c for c in qs if c.pk not in exclude]


def children(node: Region) -> list[Region]:
    return list(Region.objects.filter(path__startswith=node.path, depth=node.depth + 1).order_by("valid_to", "code"))


def by_path(paths_) -> dict[str, Region]:
    """Places by path (names of the places above an area: crumbs, group labels)."""
    return {r.path: r for r in Region.objects.filter(path__in=list(paths_))}


def parent(node: Region) -> Region | None:
    return Region.objects.get_parent(node) if node.depth > 1 else None


def parent_id(node: Region) -> int | None:
    if node.depth <= 1:
        return None
    return Region.objects.filter(path=node.path[: (node.depth - 1) * Region.steplen]).values_list("pk", flat=True).first()


def top_nodes(user) -> list[Region]:
    """The user's home nodes (the roots of their scope)."""
    return list(Region.objects.filter(path__in=scope_paths(user)).order_by("path"))


def grids_at(user, lng: float, lat: float) -> Region | None:
    """The active grid of the user's area whose boundary contains the point (its boundary read
    from the database, exactly), or None."""
    candidates = places(user).filter(
        level=Level.GRID, valid_to__isnull=True, min_lng__lte=lng, max_lng__gte=lng, min_lat__lte=lat, max_lat__gte=lat
    ).order_by("path")
    return next((g for g in candidates if g.boundary and geo.contains(g.boundary, lng, lat)), None)


def children_in_order(node: Region) -> list[Region]:
    """The children in the tree's own order (treebeard's path order)."""
    return list(Region.objects.get_children(node))


def reloaded(node: Region) -> Region:
    """The node as the database holds it now (after a change made through the services)."""
    return Region.objects.get(pk=node.pk)
