"""The rules every new order reads (SLA limits, routing, the category tree's parents, the
holiday calendar), kept per process.

Reporting an order would otherwise read them row by row on every request. Each process reloads
them all at once after CACHE_SECONDS, and at once when it saves or deletes one of these rows
itself; an administrator's edit made in another process takes effect there within
CACHE_SECONDS.
"""

import threading
import time

from django.db.models.signals import post_delete, post_save

from .models import Category, Holiday, RoutingRule, SlaRule

CACHE_SECONDS = 30
_lock = threading.Lock()
_state: dict = {"at": None}


def _load() -> dict:
    sla: dict[tuple[int, str], list] = {}
    for r in SlaRule.objects.order_by("-valid_from").values_list("category_id", "stage", "valid_from", "valid_to", "minutes", "urgent_minutes"):
        sla.setdefault((r[0], r[1]), []).append(r[2:])
    routing: dict[int, list] = {}
    for r in RoutingRule.objects.values_list("category_id", "region_path", "level", "department"):
        routing.setdefault(r[0], []).append(r[1:])
    return {
        "at": time.monotonic(),
        "sla": sla,
        "routing": routing,
        "parents": dict(Category.objects.values_list("id", "parent_id")),
        "holidays": dict(Holiday.objects.values_list("date", "working")),
    }


def rules() -> dict:
    state = _state
    if state["at"] is None or time.monotonic() - state["at"] > CACHE_SECONDS:
        with _lock:
            state = _load()
            _state.clear()
            _state.update(state)
    return state


def forget(**_kwargs):
    _state["at"] = None


for _model in (SlaRule, RoutingRule, Category, Holiday):
    post_save.connect(forget, sender=_model, dispatch_uid=f"workorders.rulecache.save.{_model.__name__}")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"workorders.rulecache.delete.{_model.__name__}")


def lineage(category_id: int) -> list[int]:
    """The category and its ancestors, nearest first."""
    parents = rules()["parents"]
    out, node = [], category_id
    while node is not None and len(out) < 20:
        out.append(node)
        node = parents.get(node)
    return out
