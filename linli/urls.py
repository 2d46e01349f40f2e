from django.conf import settings
from django.contrib import admin
from django.urls import include, path

# Every app's pages are included by name: the root URLconf imports no app. The API first: Django
# tries the patterns in order, and API calls are the most frequent requests (a phone's offline
# queue, order reports); its paths overlap no page's.
urlpatterns = [
    path("api/", include("api.urls")),
    path("", include("web.urls")),
    path("accounts/", include("accounts.urls")),
    path("regions/", include("regions.urls")),
    path("registry/", include("registry.urls")),
    path("workorders/", include("workorders.urls")),
    path("mediation/", include("mediation.urls")),
    path("insights/", include("insights.urls")),
    path("fieldwork/", include("fieldwork.urls")),
    path("open311/v2/", include("api.open311")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
