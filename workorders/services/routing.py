"""Where an order goes: its place (from a point, an address or a resident) and its handler
(the routing rule of the deepest matching region; no rule: the community)."""

from django.utils.translation import gettext_lazy as _

from linli.errors import DomainError
from regions import services as region_services
from regions.access import tree
from regions.models import Level, Region

from .. import access
from ..models import Category, HandlerLevel


def place_of_point(lat: float, lng: float) -> Region:
    """The grid containing the point; a point in no grid of the city is refused."""
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        raise DomainError("location_invalid", _("The location is not a valid latitude and longitude."), field="lat")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise DomainError("location_invalid", _("The location is not a valid latitude and longitude."), field="lat")
    grid = region_services.point_to_grid(lng, lat)
    if grid is None:
        raise DomainError(
            "location_outside",
            _("That location is outside the city's grids; pick a point inside the city or give an address."),
            field="lat",
        )
    return grid


def rule_for(category: Category, region: Region) -> tuple[str, int, str] | None:
    """The most specific rule (region_path, level, department): the category's (or its nearest
    ancestor's) rule whose region contains the place, the deepest region first; a rule without
    a region applies everywhere."""
    table = access.rule_tables()["routing"]
    for node in access.lineage(category.pk):
        best = None
        for rule in table.get(node, ()):
            if rule[0] and not region.path.startswith(rule[0]):
                continue
            if best is None or len(rule[0]) > len(best[0]):
                best = rule
        if best is not None:
            return best
    return None


def handler_for(category: Category, region: Region) -> tuple[Region, str]:
    """(unit, department) that dispatches and handles this category in this place."""
    rule = rule_for(category, region)
    level = rule[1] if rule else HandlerLevel.COMMUNITY
    department = rule[2] if rule else ""
    return unit_at_level(region, level), department


def unit_at_level(region: Region, level: int) -> Region:
    """The ancestor of `region` at `level` (or the region itself when it is already higher)."""
    if region.level <= level:
        return region
    return tree.unit(region.path[: Region.steplen * level])


def parent_unit(region: Region) -> Region | None:
    """The next level up for an escalation (grid → community → street → district → city)."""
    if region.level <= Level.CITY:
        return None
    return tree.unit(region.path[: Region.steplen * (region.level - 1)])


def place_of_address(text: str) -> Region:
    """The grid an address names: a registered estate (小区) or building address first, then
    the names of communities and grids in the text. Refused when nothing or several match."""
    from django.db.models import F, Value
    from django.db.models.lookups import Contains

    from registry.models import Building

    text = text.strip()
    live = Building.objects.filter(archived_at__isnull=True)
    by_estate = list(live.exclude(estate="").filter(Contains(Value(text), F("estate"))).select_related("region")[:500])
    by_address = list(live.exclude(address="").filter(Contains(Value(text), F("address"))).select_related("region")[:500])
    buildings = by_address or by_estate
    if buildings:
        longest = max(len(b.address if by_address else b.estate) for b in buildings)
        buildings = [b for b in buildings if len(b.address if by_address else b.estate) == longest]
        numbered = [b for b in buildings if any(f"{b.number}{s}" in text for s in ("号楼", "幢", "栋", "号", "#"))]
        grids = {b.region_id: b.region for b in (numbered or buildings)}
        if len(grids) == 1:
            return next(iter(grids.values()))
        raise DomainError("address_ambiguous", _("address_string matches places in several grids; give lat and long, or the building number."),
                          field="address_string")
    named = list(Region.objects.filter(valid_to__isnull=True, level__gte=Level.COMMUNITY).filter(Contains(Value(text), F("name")))[:500])
    grids = [r for r in named if r.level == Level.GRID]
    communities = [r for r in named if r.level == Level.COMMUNITY]
    if len(grids) > 1 and communities:
        grids = [g for g in grids if any(g.path.startswith(c.path) for c in communities)]
    if len(grids) == 1:
        return grids[0]
    if not grids and len(communities) == 1:
        inside = list(Region.objects.filter(level=Level.GRID, valid_to__isnull=True, path__startswith=communities[0].path)[:2])
        if len(inside) == 1:
            return inside[0]
    raise DomainError(
        "address_unknown",
        _("address_string could not be placed in a grid; give lat and long, or an address with a registered estate and building."),
        field="address_string",
    )
