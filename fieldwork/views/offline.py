"""Pages that let the field pages work with no signal: the service worker (served from here so
its scope is /fieldwork/), the web-app manifest, the bundle the phone keeps, the page listing
what is still waiting on the phone, and the page shown offline for a page never opened online."""

import hashlib
import json

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from linli.pages import page

from ..services import sync

# Raise when the service worker's behaviour changes (the shell's addresses change it too).
WORKER_VERSION = "2"


# What the field pages load: kept on the phone when the service worker installs.
SHELL = [
    "web/linli.css",
    "django_htmx/htmx-2.min.js",
    "fieldwork/field.css",
    "fieldwork/queue-core.js",
    "fieldwork/queue.js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "fieldwork/visits.css",
    "fieldwork/visit.js",
    "fieldwork/patrol.css",
    "fieldwork/patrol.js",
    "fieldwork/map.js",
    "workorders/workorders.css",
]


def shell_urls() -> list[str]:
    from django.templatetags.static import static

    urls = []
    for name in SHELL:
        try:
            urls.append(static(name))
        except ValueError:
            # Not collected (a file renamed or not built): the worker must still install.
            continue
    return urls


@require_GET
@never_cache
def service_worker(request):
    shell = shell_urls()
    version = hashlib.sha1("|".join([WORKER_VERSION, *shell]).encode()).hexdigest()[:10]
    body = render_to_string("fieldwork/offline/sw.js", {"version": version, "shell": json.dumps(shell)}, request=request)
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/fieldwork/"
    return response


@require_GET
def manifest(request):
    from django.templatetags.static import static

    data = {
        "name": gettext("Linli field work"),
        "short_name": gettext("Field work"),
        "start_url": "/fieldwork/due/",
        "scope": "/fieldwork/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f5f8b",
        "icons": [{"src": static("fieldwork/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/manifest+json; charset=utf-8")
    response["Cache-Control"] = "max-age=3600"
    return response


@page()
@never_cache
def offline_bundle(request):
    grids = sync.bundle_grids(request.user, request.GET.getlist("grid"), request.session.get(sync.BUNDLE_GRIDS, ()))
    return JsonResponse(sync.bundle(request.user, grid_ids=grids), json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})


@page()
def queue(request):
    from django.shortcuts import render

    return render(request, "fieldwork/offline/queue.html", {})


def offline_page(request):
    """Shown by the service worker for a field page that was never opened online (no login
    needed: it holds nothing personal)."""
    from django.shortcuts import render

    return render(request, "fieldwork/offline/offline.html", {})
