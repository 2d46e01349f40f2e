"""The tree's places kept per process, for the lookups every report and page makes: which
active grid holds a point, which unit above a place handles it, the place of a role.

Reporting an order read them from the database each time (the grid lookup loads and parses the
candidate grids' GeoJSON). The tree changes rarely (an administrator creates, renames, moves or
merges places); linli/snapshot.py says how every process catches up with a change.

Every place is kept without its boundary, and the active grids' parsed boundaries besides.
The places handed out are copies: a caller may change its copy without touching the kept one,
and reading `.boundary` loads it from the database.
"""

import copy

from linli.snapshot import Snapshot

from ..models import Level, Region
from ..services import geo

# A point is looked up in the cells of a coarse index (0.01° ≈ 1 km) instead of every grid.
CELL = 0.01


def _cell(lng: float, lat: float) -> tuple[int, int]:
    return int(lng // CELL), int(lat // CELL)


def _load() -> dict:
    fields = [f.attname for f in Region._meta.concrete_fields if f.name != "boundary"]
    units = {r.path: r for r in Region.objects.only(*fields)}
    grids = {r.pk: r for r in units.values() if r.level == Level.GRID and r.valid_to is None and r.min_lng is not None}
    shapes = []
    index: dict[tuple[int, int], list[int]] = {}
    rows = Region.objects.filter(level=Level.GRID, valid_to__isnull=True, min_lng__isnull=False, boundary__isnull=False)
    for pk, boundary in rows.order_by("path").values_list("pk", "boundary"):
        g = grids.get(pk)
        if g is None or not boundary:
            continue
        i = len(shapes)
        shapes.append((g.min_lng, g.min_lat, g.max_lng, g.max_lat, boundary, g))
        x0, y0 = _cell(g.min_lng, g.min_lat)
        x1, y1 = _cell(g.max_lng, g.max_lat)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                index.setdefault((x, y), []).append(i)
    return {"units": units, "shapes": shapes, "index": index}


places = Snapshot("regions-tree", _load).watch(Region)


def grid_at(lng: float, lat: float) -> Region | None:
    """The active grid whose boundary contains the point, or None."""
    kept = places.get()
    shapes = kept["shapes"]
    for i in kept["index"].get(_cell(lng, lat), ()):
        min_lng, min_lat, max_lng, max_lat, boundary, grid = shapes[i]
        if min_lng <= lng <= max_lng and min_lat <= lat <= max_lat and geo.contains(boundary, lng, lat):
            return copy.copy(grid)
    return None


def unit(path: str) -> Region:
    """The place with this path (open or closed); one this process has not seen yet is read
    from the database."""
    found = places.get()["units"].get(path)
    if found is None:
        return Region.objects.defer("boundary").get(path=path)
    return copy.copy(found)


def forget() -> None:
    places.forget()


def changed(**_kwargs) -> None:
    """Call after changing the tree other than through Region.save() (a move rewrites paths in
    bulk)."""
    places.changed()

