"""The one-window desk (一窗受理): a community worker takes an application for a service item,
checks the applicant's materials against the item's list and either accepts it (立案, the time
limit starts) or hands over a one-time notice (一次性告知) naming every missing item at once.
When the applicant comes back with them the application is accepted; it is then processed and
finished (handled and closed: a one-window item has nothing to verify on site).

A missing-materials notice is a Transition with action "materials_missing" and the list in its
data; the order stays `reported` and its clock stops until the materials are in (the applicant,
not the window, is who is waited for).
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.access import in_scope
from linli import pii
from linli.errors import DomainError, Forbidden
from regions.models import Region

from .. import access
from ..models import ACTION_MISSING, Category, Kind, Priority, Source, Stage, Status, Transition, WorkOrder
from . import orders, sla
from .orders import _lock, _save, _take

__all__ = ["ACTION_MISSING", "accept", "apply", "finish", "missing_of", "notify_missing", "process"]


def _clean_items(category: Category, items, field: str) -> list[str]:
    """Material names as listed on the item (unknown names refused, repeats dropped)."""
    listed = list(category.materials or [])
    out = []
    for name in items or []:
        name = str(name).strip()
        if not name or name in out:
            continue
        if name not in listed:
            raise DomainError("material_unknown", _("%(item)s is not a material of this service item."), field=field, item=name)
        out.append(name)
    return out


def missing_of(category: Category, received) -> list[str]:
    return [m for m in category.materials or [] if m not in set(received or [])]


@transaction.atomic
def apply(
    actor,
    *,
    category,
    region: Region | None = None,
    resident=None,
    applicant_name: str = "",
    applicant_phone: str = "",
    attributes: dict | None = None,
    received=(),
    extra_missing=(),
    note: str = "",
) -> WorkOrder:
    """Take an application at the window. With every material received it is accepted at once;
    otherwise a one-time notice lists what is missing and the application waits for it."""
    category = category if isinstance(category, Category) else access.service_item(category)
    if category.kind != Kind.SERVICE:
        raise DomainError("not_window", _("This is not a one-window service item."), field="category")
    name = (applicant_name or "").strip()
    if resident is not None:
        if actor is not None and not in_scope(actor, resident.region_path):
            raise Forbidden("forbidden", _("That resident lives outside your area."))
        name = name or resident.name
        region = resident.region
    if not name:
        raise DomainError("applicant_required", _("Pick the applicant from the registry, or give their name and phone."), field="applicant_name")
    if len(name) > 50:
        raise DomainError("name_too_long", _("The name is at most 50 characters."), field="applicant_name")
    try:
        phone = pii.normalize_phone(applicant_phone)
    except ValueError:
        raise DomainError("phone_invalid", _("The phone number is not valid."), field="applicant_phone")
    if resident is None and not phone:
        raise DomainError("phone_required", _("Give the applicant's phone, so they can be told when it is done."), field="applicant_phone")
    if region is None:
        raise DomainError("location_required", _("Choose the community the application belongs to."), field="region")
    received = _clean_items(category, received, "received")
    extra = [str(x).strip()[:100] for x in extra_missing or [] if str(x).strip()]
    order = orders.report(
        actor, category=category, source=Source.WINDOW, title=f"{category.name}：{name}", description=note, region=region,
        attributes=attributes, resident=resident, reporter_name=name, reporter_phone=phone,
    )
    missing = missing_of(category, received) + extra
    if missing:
        return notify_missing(actor, order, missing, "", received=received)
    return accept(actor, order, received, note="")


@transaction.atomic
def notify_missing(actor, order, missing, note: str = "", *, received=(), version=None) -> WorkOrder:
    """一次性告知: record every missing item at once. The application stays `reported`, its clock
    stopped until the applicant brings them."""
    order = _lock(order, version)
    _take(actor, order, ACTION_MISSING)  # the status stays
    listed = set(order.category.materials or [])
    items, seen = [], set()
    for name in missing or []:
        name = str(name).strip()[:100]
        if name and name not in seen:
            seen.add(name)
            items.append(name)
    if not items:
        raise DomainError("missing_required", _("Tick what the applicant has not brought; the notice lists every missing item at once."), field="missing")
    received = [m for m in _clean_items(order.category, received, "received") if m not in seen]
    order.stage, order.due_at, order.overdue, order.deadline = Stage.FILE, None, False, None
    _save(order, actor, ACTION_MISSING, order.status, note, {
        "missing": items,
        "received": received,
        "other": [m for m in items if m not in listed],
    })
    return order


@transaction.atomic
def accept(actor, order, received, *, note: str = "", version=None) -> WorkOrder:
    """受理: every material is in. The application is filed and its promised time limit (working
    days, counted from now) becomes its deadline."""
    order = _lock(order, version)
    _take(actor, order, "accept")
    received = _clean_items(order.category, received, "received")
    still = missing_of(order.category, received)
    if still:
        raise DomainError(
            "materials_missing", _("Still missing: %(items)s. Tick each material the applicant has handed in, or give a one-time notice."),
            field="received", items="、".join(still),
        )
    notice = access.last_notice(order)
    if notice is not None and notice.data.get("other"):
        # Items named on the notice beyond the item's list count as handed in on acceptance.
        received = received + [m for m in notice.data["other"] if m not in received]
    text = (note or "").strip() or (str(_("Materials complete; accepted.")) if notice is None else str(_("Missing materials handed in; accepted.")))
    order = orders.file(actor, order, note=text)
    now = orders._now()
    deadline = sla.closing_deadline(order.category, Stage.DISPATCH, order.priority == Priority.URGENT, now)
    WorkOrder.objects.filter(pk=order.pk).update(deadline=deadline)
    order.deadline = deadline
    Transition.objects.filter(pk=order.transitions.filter(action="file").order_by("-id").values("pk")[:1]).update(
        data={"received": received}
    )
    return order


@transaction.atomic
def process(actor, order, *, assignee=None, note: str = "", version=None) -> WorkOrder:
    """办理: the accepted application is taken in hand — by the worker at the window, or given
    to a colleague of the community."""
    order = _lock(order, version)
    _take(actor, order, "process")
    order = orders.dispatch(actor, order, assignee=assignee or actor, note=note)
    if order.assignee_id == getattr(actor, "pk", None):
        order = orders.start(actor, order)
    return order


@transaction.atomic
def finish(actor, order, *, note: str, version=None) -> WorkOrder:
    """办结: record the result and close the application (taking it in hand first if needed)."""
    order = _lock(order, version)
    _take(actor, order, "finish")
    if not (note or "").strip():
        raise DomainError("note_required", _("Say what was done."), field="note")
    if order.status == Status.FILED:
        order = orders.dispatch(actor, order, assignee=actor)
    if order.status in (Status.DISPATCHED, Status.IN_PROGRESS):
        order = orders.handle(actor, order, note=note)
    return orders.close(actor, order, note=note)

