"""GeoJSON boundaries: validation, bounding boxes and point-in-polygon (no GIS server needed)."""

import math

from django.utils.translation import gettext_lazy as _

from linli.errors import DomainError

EARTH_RADIUS_M = 6_371_008.8  # mean radius


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Metres between two points on the earth (great-circle distance)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _bad(message):
    return DomainError("boundary_invalid", message, field="boundary")


def polygons(geometry: dict) -> list[list[list[list[float]]]]:
    """The boundary as a list of polygons, each a list of rings of [lng, lat]."""
    if geometry.get("type") == "Feature":
        geometry = geometry.get("geometry") or {}
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        return [coords]
    if kind == "MultiPolygon":
        return list(coords)
    raise _bad(_("A boundary must be a GeoJSON Polygon or MultiPolygon."))


def validate(geometry) -> dict:
    if not isinstance(geometry, dict):
        raise _bad(_("A boundary must be a GeoJSON object."))
    try:
        polys = polygons(geometry)
        for poly in polys:
            if not poly:
                raise _bad(_("A polygon needs at least one ring."))
            for ring in poly:
                if len(ring) < 4 or ring[0] != ring[-1]:
                    raise _bad(_("Each ring needs four or more points and must end where it starts."))
                for pt in ring:
                    lng, lat = float(pt[0]), float(pt[1])
                    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
                        raise _bad(_("Coordinates must be longitude, latitude in degrees."))
    except (TypeError, ValueError, IndexError):
        raise _bad(_("The boundary's coordinates are not numbers in GeoJSON order."))
    return geometry


def bbox(geometry: dict) -> tuple[float, float, float, float]:
    xs, ys = [], []
    for poly in polygons(geometry):
        for pt in poly[0]:
            xs.append(float(pt[0]))
            ys.append(float(pt[1]))
    return min(xs), min(ys), max(xs), max(ys)


def _in_ring(lng: float, lat: float, ring) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lng < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def contains(geometry: dict, lng: float, lat: float) -> bool:
    for poly in polygons(geometry):
        if _in_ring(lng, lat, poly[0]) and not any(_in_ring(lng, lat, hole) for hole in poly[1:]):
            return True
    return False
