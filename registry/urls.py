from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("residents/", views.resident_list, name="resident_list"),
    path("residents/export.xlsx", views.export, name="export"),
    path("residents/<int:pk>/", views.resident_detail, name="resident_detail"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/reveal/<str:field>/", views.resident_reveal, name="resident_reveal"),
    path("residents/<int:pk>/tags/", views.resident_tag_add, name="resident_tag_add"),
    path("residents/<int:pk>/tags/<slug:code>/end/", views.resident_tag_end, name="resident_tag_end"),
    path("residents/<int:pk>/<str:kind>/", views.resident_event, name="resident_event"),
    path("buildings/", views.building_list, name="building_list"),
    path("buildings/<int:pk>/", views.building_detail, name="building_detail"),
    path("buildings/<int:pk>/edit/", views.building_edit, name="building_edit"),
    path("houses/<int:pk>/", views.house_detail, name="house_detail"),
    path("houses/<int:pk>/edit/", views.house_edit, name="house_edit"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:household_pk>/add/", views.resident_create, name="resident_create"),
    path("organizations/", views.organization_list, name="organization_list"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/edit/", views.organization_edit, name="organization_edit"),
    path("organizations/<int:pk>/archive/", views.organization_archive, name="organization_archive"),
    path("organizations/<int:pk>/reveal/", views.organization_reveal, name="organization_reveal"),
    path("import/", views.import_index, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_job, name="import_job"),
    path("import/<int:pk>/report.xlsx", views.import_report, name="import_report"),
]
