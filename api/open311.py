"""Open311 GeoReport v2 at /open311/v2/ (filled in by the Open311 facade)."""

urlpatterns: list = []
