"""The site's URLs plus one bare endpoint, for the order-creation benchmark only.

`POST /bench/bare` is the baseline: the same bearer-token authentication as the API (BearerToken
from api/api.py), a JSON body parsed into a schema, one row inserted (an in-app Notification
for the caller), a small JSON answer. Whatever the real endpoint does beyond that is the cost of
the work order itself.

gunicorn serves the site with these URLs through `bench.workorders:wsgi()`.
"""

from django.urls import path
from django.utils import timezone
from ninja import NinjaAPI, Schema

from api.api import BearerToken
from linli.urls import urlpatterns as site_urlpatterns

bare = NinjaAPI(title="bench", version="bench", auth=BearerToken(), urls_namespace="bench", docs_url=None, openapi_url=None)


class BareIn(Schema):
    text: str = ""


class BareOut(Schema):
    id: int


@bare.post("/bare", response={201: BareOut})
def bare_insert(request, payload: BareIn):
    from workorders.models import Notification

    row = Notification.objects.create(user=request.auth, verb="bench", text=payload.text[:300], at=timezone.now())
    return 201, {"id": row.pk}


urlpatterns = [path("bench/", bare.urls), *site_urlpatterns]

