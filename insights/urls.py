from django.urls import path

from . import views

app_name = "insights"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<int:region_id>/", views.dashboard, name="region"),
    path("<int:region_id>/export.xlsx", views.export, name="export"),
]
