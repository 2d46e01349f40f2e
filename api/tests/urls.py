"""Only the API, so its tests do not depend on the web pages' URL modules."""

from django.urls import path

from api.api import api

urlpatterns = [path("api/", api.urls)]
