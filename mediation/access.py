"""Which mediation cases a user sees, and who may work on one.

- Staff with an area (city, district, street, community, grid) see the cases whose place lies in
  their area; a mediator sees the cases they mediate.
- Working on a case (parties, sessions, agreement, follow-ups, court, closing) is for its
  mediators, the assignee of its order and the dispatchers of the unit that holds the order.
Any other id answers "not found".
"""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.access import assignments
from linli.db import prefix_q
from linli.errors import Forbidden, NotFound
from workorders import access as wo_access
from workorders.hooks import Link
from workorders.models import Kind

from .models import Case


def cases_q(user) -> Q:
    if not user or not user.is_authenticated:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for role, path, _region in assignments(user):
        if role in wo_access.AREA_ROLES:
            q |= prefix_q("region_path", path)
    return q | Q(pk__in=Case.mediators.through.objects.filter(user_id=user.pk).values("case_id"))


def is_staff(user) -> bool:
    return any(role in wo_access.AREA_ROLES for role, _p, _i in assignments(user))


def cases(user):
    return Case.objects.filter(cases_q(user)).select_related("order", "order__category", "region")


def case(user, pk) -> Case:
    """One case the user may see; "not found" for any other id (outside the area or absent)."""
    try:
        return cases(user).get(pk=int(pk))
    except (Case.DoesNotExist, ValueError, TypeError):
        raise NotFound("not_found", _("Not found, or outside your area."))


def is_mediator(user, case: Case) -> bool:
    return case.mediators.filter(pk=user.pk).exists()


def may_work_on(user, case: Case) -> bool:
    order = case.order
    return (
        (order.assignee_id is not None and order.assignee_id == user.pk)
        or is_mediator(user, case)
        or wo_access.is_dispatcher(user, order)
    )


def require_worker(user, case: Case):
    if user is not None and not may_work_on(user, case):
        raise Forbidden("forbidden", _("Only the mediators of this case and its dispatchers can do this."))


# ---------------------------------------------------------------- told to work orders (workorders.hooks)


def mediates_order(user, order) -> bool:
    """Every mediator named on a mediation case handles its work order, not only the assignee."""
    return order.kind == Kind.MEDIATION and Case.objects.filter(order_id=order.pk, mediators=user).exists()


def case_link(order) -> Link | None:
    """The mediation case built on a work order, linked from the order's page."""
    if order.kind != Kind.MEDIATION:
        return None
    pk = Case.objects.filter(order_id=order.pk).values_list("pk", flat=True).first()
    return Link(_("Open the mediation case"), reverse("mediation:case_detail", args=[pk])) if pk is not None else None
