"""The registry over JSON: buildings, houses, households, residents, organisations, imports and
exports, each within the caller's area; one module a topic, mounted on `router`.

Handlers read through registry.access (a row outside the caller's area is "not found") and
change data only through registry.services. Rows are never hard-deleted: DELETE archives a
building or organisation; a resident leaves through move-out or death. ID numbers and phone
numbers leave the server masked, except through POST /residents/{id}/reveal (logged).
"""

from ninja import Router

from . import imports, organizations, places, residents

router = Router(tags=["registry"])
for _topic in (places, residents, organizations, imports):
    # The operation ids the routes had when they were one module (registry_api_<handler>): the
    # clients generated from the OpenAPI document keep their names.
    for _path_view in _topic.router.path_operations.values():
        for _operation in _path_view.operations:
            _operation.operation_id = _operation.operation_id or f"registry_api_{_operation.view_func.__name__}"
    router.add_router("", _topic.router)
