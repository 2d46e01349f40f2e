from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("access-log/", views.access_log, name="access_log"),
    path("locked/", views.locked, name="locked"),
]
