"""Field-work pages. Each area keeps its own `urlpatterns` in its views module."""

from . import compliance_views, evaluation_views, offline_views, patrol_views, visit_views

app_name = "fieldwork"

urlpatterns = [
    *visit_views.urlpatterns,
    *patrol_views.urlpatterns,
    *offline_views.urlpatterns,
    *compliance_views.urlpatterns,
    *evaluation_views.urlpatterns,
]
