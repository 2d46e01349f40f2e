"""The field-work API at /api/fieldwork/: each area's routes in its own module.

- visits.py       the caller's due list, recording and listing visits, arriving at a must-attend order
- patrols.py      starting, feeding and ending a patrol; a patrol's route; patrol lists
- sync.py         the phone's offline queue and the bundle it keeps
- compliance.py   the compliance figures of a place
- evaluations.py  residents' ratings, their results, the public grid notice
"""

from ninja import Router

from . import compliance, evaluations, patrols, sync, visits

# The operation ids the routes had when each area was a module beside the others
# (fieldwork_<area>_api_<handler>): the clients generated from the OpenAPI document keep their names.
_AREAS = {visits: "visit", patrols: "patrol", sync: "sync", compliance: "compliance", evaluations: "evaluation"}

router = Router(tags=["fieldwork"])
for _area, _name in _AREAS.items():
    for _path_view in _area.router.path_operations.values():
        for _operation in _path_view.operations:
            _operation.operation_id = _operation.operation_id or f"fieldwork_{_name}_api_{_operation.view_func.__name__}"
    router.add_router("", _area.router)
