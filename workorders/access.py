"""Which orders a user sees, and what they may do to one.

- Staff with an area (city, district, street, community, grid) see the orders whose place lies
  in their area.
- A department handler sees the orders of their department in their area.
- A resident sees the orders they reported.
Anything else answers "not found".
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.access import AREA_ROLES, assignments, departments
from accounts.models import Role
from linli.db import prefix_q
from linli.errors import Forbidden, NotFound

from .models import WorkOrder

DISPATCH_ROLES = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_OFFICER, Role.COMMUNITY_WORKER}


def _departments(user) -> list[tuple[str, str]]:
    """(department, area path) of each department-handler assignment."""
    return departments(user)


def orders_q(user) -> Q:
    if not user or not user.is_authenticated:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for role, path, _region in assignments(user):
        if role in AREA_ROLES:
            q |= prefix_q("region_path", path)
    for department, path in _departments(user):
        if department:
            q |= Q(department=department) & prefix_q("region_path", path)
    q |= Q(reporter=user)
    return q


def orders(user):
    return WorkOrder.objects.filter(orders_q(user)).select_related("category", "region", "handler_region", "assignee")


def order(user, pk) -> WorkOrder:
    """One order the user may see; "not found" for any other id (outside the area or absent)."""
    try:
        return orders(user).get(pk=int(pk))
    except (WorkOrder.DoesNotExist, ValueError, TypeError):
        raise NotFound("not_found", _("Not found, or outside your area."))


def has_area_role(user, roles: set, path: str) -> bool:
    """The user holds one of `roles` at `path` or above it."""
    return any(r in roles and path.startswith(p) for r, p, _ in assignments(user))


def is_dispatcher(user, order: WorkOrder) -> bool:
    """Dispatchers of the unit whose desk holds the order (or a unit above it)."""
    return has_area_role(user, DISPATCH_ROLES, order.handler_region_path)


def is_handler(user, order: WorkOrder) -> bool:
    if order.assignee_id and order.assignee_id == user.pk:
        return True
    if order.department and any(
        d == order.department and order.region_path.startswith(p) for d, p in _departments(user)
    ):
        return True
    if not order.assignee_id and not order.department and has_area_role(user, {Role.GRID_WORKER}, order.handler_region_path):
        return True
    if order.kind == "mediation" and _is_mediator(user, order):
        return True
    return is_dispatcher(user, order)


def _is_mediator(user, order: WorkOrder) -> bool:
    """Every mediator named on a mediation case handles it, not only the assignee."""
    from mediation.models import Case

    return Case.objects.filter(order_id=order.pk, mediators=user).exists()


def is_verifier(user, order: WorkOrder) -> bool:
    """On-site verification: the grid worker of the order's place, or its dispatchers."""
    return has_area_role(user, {Role.GRID_WORKER}, order.region_path) or is_dispatcher(user, order)


def is_reporter(user, order: WorkOrder) -> bool:
    return bool(order.reporter_id) and order.reporter_id == user.pk


def can_see(user, order: WorkOrder) -> bool:
    return WorkOrder.objects.filter(orders_q(user), pk=order.pk).exists()


def may_take(user, path: str) -> bool:
    """Could this user be the assignee of an order at `path`? (staff whose area holds it)"""
    return has_area_role(user, AREA_ROLES, path) or any(path.startswith(p) for _d, p in _departments(user))


def require(ok: bool):
    if not ok:
        raise Forbidden("forbidden", _("You may not do this with this work order."))
