from django.urls import path

from .views import imports, organizations, places, residents

app_name = "registry"

urlpatterns = [
    path("residents/", residents.resident_list, name="resident_list"),
    path("residents/export.xlsx", residents.export, name="export"),
    path("residents/<int:pk>/", residents.resident_detail, name="resident_detail"),
    path("residents/<int:pk>/edit/", residents.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/reveal/<str:field>/", residents.resident_reveal, name="resident_reveal"),
    path("residents/<int:pk>/tags/", residents.resident_tag_add, name="resident_tag_add"),
    path("residents/<int:pk>/tags/<slug:code>/end/", residents.resident_tag_end, name="resident_tag_end"),
    path("residents/<int:pk>/<str:kind>/", residents.resident_event, name="resident_event"),
    path("buildings/", places.building_list, name="building_list"),
    path("buildings/<int:pk>/", places.building_detail, name="building_detail"),
    path("buildings/<int:pk>/edit/", places.building_edit, name="building_edit"),
    path("houses/<int:pk>/", places.house_detail, name="house_detail"),
    path("houses/<int:pk>/edit/", places.house_edit, name="house_edit"),
    path("households/<int:pk>/", places.household_detail, name="household_detail"),
    path("households/<int:household_pk>/add/", residents.resident_create, name="resident_create"),
    path("organizations/", organizations.organization_list, name="organization_list"),
    path("organizations/new/", organizations.organization_create, name="organization_create"),
    path("organizations/<int:pk>/", organizations.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/edit/", organizations.organization_edit, name="organization_edit"),
    path("organizations/<int:pk>/archive/", organizations.organization_archive, name="organization_archive"),
    path("organizations/<int:pk>/reveal/", organizations.organization_reveal, name="organization_reveal"),
    path("import/", imports.import_index, name="import"),
    path("import/template.xlsx", imports.import_template, name="import_template"),
    path("import/<int:pk>/", imports.import_job, name="import_job"),
    path("import/<int:pk>/report.xlsx", imports.import_report, name="import_report"),
]
