from django.urls import path

from . import views

app_name = "regions"

urlpatterns = [
    path("", views.index, name="index"),
    path("locate/", views.locate, name="locate"),
    path("<int:pk>/", views.node, name="node"),
    path("<int:pk>/children/", views.create_child, name="create_child"),
    path("<int:pk>/rename/", views.rename, name="rename"),
    path("<int:pk>/boundary/", views.boundary, name="boundary"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/merge/", views.merge, name="merge"),
]
