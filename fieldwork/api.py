"""The field-work API at /api/fieldwork/: each area's routes in its own module."""

from ninja import Router

from . import compliance_api, evaluation_api, patrol_api, sync_api, visit_api

router = Router(tags=["fieldwork"])
for _area in (visit_api, patrol_api, sync_api, compliance_api, evaluation_api):
    router.add_router("", _area.router)
