"""The API's addresses under /api/ (the root URLconf includes this module by name)."""

from .api import api

urlpatterns, _app_name, app_name = api.urls
