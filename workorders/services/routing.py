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
