"""Possible duplicates while reporting: open orders of the same category within 50 m and 7 days.

A bounding box on lat/lng narrows the rows (the (category, reported_at) index holds the time
window), then the haversine distance keeps those truly within the radius.
"""

import datetime as dt
import math

from django.utils import timezone

from regions.services.geo import EARTH_RADIUS_M as EARTH_M
from regions.services.geo import haversine_m as haversine

from .models import OPEN_STATUSES, WorkOrder

RADIUS_M = 50
DAYS = 7
LIMIT = 5


def box(lat: float, lng: float, radius_m: float = RADIUS_M) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) around the point."""
    dlat = math.degrees(radius_m / EARTH_M)
    dlng = math.degrees(radius_m / (EARTH_M * max(0.01, math.cos(math.radians(lat)))))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def nearby_orders(category_id, lat, lng, *, radius_m: float = RADIUS_M, days: int = DAYS, now=None, exclude=None) -> list[WorkOrder]:
    """Open orders of the category reported in the last `days` within `radius_m`, nearest first;
    each carries `.distance` in metres. Bad coordinates give an empty list."""
    try:
        lat, lng = float(lat), float(lng)
        category_id = int(category_id)
    except (TypeError, ValueError):
        return []
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return []
    now = now or timezone.now()
    min_lat, max_lat, min_lng, max_lng = box(lat, lng, radius_m)
    qs = WorkOrder.objects.filter(
        category_id=category_id,
        reported_at__gte=now - dt.timedelta(days=days),
        status__in=OPEN_STATUSES,
        lat__gte=min_lat,
        lat__lte=max_lat,
        lng__gte=min_lng,
        lng__lte=max_lng,
    ).only("id", "title", "status", "reported_at", "lat", "lng", "region_path", "reporter_id", "category_id")
    if exclude:
        qs = qs.exclude(pk=exclude)
    found = []
    for order in qs[:200]:
        d = haversine(lat, lng, order.lat, order.lng)
        if d <= radius_m:
            order.distance = round(d)
            found.append(order)
    found.sort(key=lambda o: (o.distance, -o.pk))
    return found[:LIMIT]
