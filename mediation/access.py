"""Which mediation cases a user sees, and who may work on one.

- Staff with an area (city, district, street, community, grid) see the cases whose place lies in
  their area; a mediator sees the cases they mediate.
- Working on a case (parties, sessions, agreement, follow-ups, court, closing) is for its
  mediators, the assignee of its order and the dispatchers of the unit that holds the order.
Any other id answers "not found".
"""

import datetime as dt

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import assignments, in_scope, scope_paths
from accounts.models import RoleAssignment, User
from linli import paths
from linli.db import prefix_q
from linli.errors import Forbidden, NotFound
from regions.access import home_region
from regions.models import Level, Region
from workorders import access as wo_access
from workorders.hooks import Link
from workorders.models import ENDED_STATUSES, Category, Kind

from .models import Case, FollowUp


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


def categories() -> list[Category]:
    """The mediation categories a case may be taken in under."""
    return list(Category.objects.filter(kind=Kind.MEDIATION, is_group=False, active=True).order_by("sort", "code"))


def waiting_orders(user):
    """Mediation work orders of the user's area that came in by another channel and have no case
    yet (the desk opens their case)."""
    return wo_access.orders(user).filter(kind=Kind.MEDIATION, mediation__isnull=True).exclude(status__in=ENDED_STATUSES).order_by("-pk")


def waiting_order(user, pk):
    order = waiting_orders(user).filter(pk=_int(pk)).first()
    if order is None:
        raise NotFound("not_found", _("Not found, or outside your area."))
    return order


def intake_places(user) -> list[Region]:
    """Grids and communities of the user's area (a desk takes cases in for its own places),
    each labelled with its community."""
    q = Q(pk__in=[])
    for p in scope_paths(user, wo_access.AREA_ROLES):
        q |= prefix_q("path", p)
    places = list(Region.objects.filter(q, level__in=[Level.COMMUNITY, Level.GRID], valid_to__isnull=True).order_by("path")[:600])
    names = {r.path: r.name for r in places}
    for r in places:
        parent = names.get(paths.parent(r.path))
        r.label = f"{parent} · {r.name}" if parent and r.level == Level.GRID else r.name
    return places


def mediator_choices(case: Case) -> list[User]:
    """Staff who could mediate here: area staff from the street down whose area holds the case,
    each with a label naming their role and place."""
    path = case.region_path
    community = paths.at_level(path, Level.COMMUNITY)
    roles = RoleAssignment.objects.filter(role__in=wo_access.AREA_ROLES).filter(
        Q(region_path__in=paths.ancestors(path, from_level=Level.STREET)) | prefix_q("region_path", community)
    )
    people = list(User.objects.filter(pk__in=roles.values("user_id"), is_active=True).order_by("username"))
    labels = {}
    for ra in roles.select_related("region"):
        labels.setdefault(ra.user_id, f"{ra.get_role_display()} · {ra.region.name}")
    for u in people:
        u.choice_label = f"{u} （{labels.get(u.pk, '')}）"
    return people


def follow_up(user, pk) -> FollowUp:
    """A follow-up visit of a case the user sees; "not found" for any other id."""
    fu = FollowUp.objects.filter(pk=_int(pk), case__in=cases(user).values("pk")).select_related("case").first()
    if fu is None:
        raise NotFound("not_found", _("Not found, or outside your area."))
    return fu


def due_follow_ups(user, on: dt.date | None = None):
    """Follow-up visits without a result that are due by `on` (default today) in the user's area."""
    on = on or timezone.localdate()
    return (
        FollowUp.objects.filter(case__in=cases(user).values("pk"), result="", due_on__lte=on)
        .select_related("case", "case__order", "term")
        .order_by("due_on", "id")
    )


def committee(case: Case) -> Region:
    """The community (residents' or village committee) in whose name the agreement is signed."""
    if case.region.level <= Level.COMMUNITY:
        return case.region
    return Region.objects.get(path=paths.at_level(case.region_path, Level.COMMUNITY))


def figures_place(user, region_id=None) -> Region:
    """The place whose mediation figures the user asks for: one in their area (staff with an
    area), else "not found"; without an id, their own place."""
    if not scope_paths(user, wo_access.AREA_ROLES):
        raise Forbidden("forbidden", _("Only staff with an area see mediation figures."))
    if region_id:
        region = Region.objects.defer("boundary").filter(pk=_int(region_id)).first()
        if region is None or not in_scope(user, region.path, wo_access.AREA_ROLES):
            raise NotFound("not_found", _("Not found, or outside your area."))
        return region
    return home_region(user)


def parent_in_area(user, region: Region) -> Region | None:
    """The place above, when it is in the user's area too (the page's way up)."""
    if region.level <= Level.CITY or not in_scope(user, paths.parent(region.path), wo_access.AREA_ROLES):
        return None
    return Region.objects.defer("boundary").filter(path=paths.parent(region.path)).first()


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
