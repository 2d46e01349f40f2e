"""Work orders over JSON: the category tree, the caller's orders, every step of the lifecycle
and the caller's notifications.

Handlers parse, call workorders/services and render; scope comes from workorders/access.py (an
order outside the caller's area answers 404). Every step is `POST /orders/{id}/<action>` with the
`version` the caller saw (required): when someone changed the order since, or the same step was
already sent (a double tap, a retry), the answer is 409 `order_changed` and nothing happens (the
service compares it under the order's row lock).
Bodies are JSON, or multipart forms where a step takes photos (`files`); in a form, details are
`attribute[code]` fields (or `attributes` as JSON).

Lists are keyset pages, newest first: pass the `next_after` of one page as `after` for the next.

The routes keep the operation ids they had when this was one module (`workorders_api_...`):
clients generate code from them.
"""

from ninja import Router

from . import categories, notifications, orders

router = Router(tags=["workorders"])
router.add_router("", categories.router)
router.add_router("", orders.router)
router.add_router("", notifications.router)
