"""三必 on the ground: must-attend (arrive at an emergency or dispute and be timed) and must-report
(quick reports of safety hazards and key-person arrivals that reach the community with an SLA).

- A work order whose category is `must_attend` notifies the grid's workers when it is reported
  (workorders.services.report). The grid worker taps "到场" on arrival: `arrive` records one
  Attendance per order, timed in seconds from the report. A second arrival (another worker, or
  the same tap replayed from the phone's queue) returns the first one unchanged.
- `quick_report` is a grid worker's report with few fields: the form decides the category family
  (hazard: the 安全隐患 group; arrival: 重点人员到达; incident: any incident), the work-order engine
  routes it (the seed sends these to the community with short limits). An offline upload carries
  a key: the order keeps "fw:<key>" in `WorkOrder.client`, and a replay returns that order.
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Max, Q
from django.utils.translation import gettext_lazy as _

from linli.db import prefix_q
from linli.errors import DomainError, Forbidden, NotFound
from regions.models import Region

from .. import access
from ..models import Attendance
from .visits import _as_files, _coord, _flag, parse_when

# Arrival within this many seconds of the report counts as "on time" in the figures.
ON_TIME_SECONDS = 30 * 60

# The quick forms: which categories each offers. `group`: leaves under that group code;
# `code`: one fixed category; `kinds`: every leaf of those kinds.
FORMS = {
    "hazard": {"label": _("Safety hazard"), "group": "safety", "default": "safety.hazard"},
    "arrival": {"label": _("Key person arrived"), "code": "incident.key_arrival"},
    "incident": {"label": _("Quick report"), "kinds": ("incident",)},
}


# ---------------------------------------------------------------- must-attend


def _order(actor, order):
    from workorders import access as wo_access
    from workorders.models import WorkOrder

    if isinstance(order, WorkOrder):
        return order
    return wo_access.order(actor, getattr(order, "pk", order))


@transaction.atomic
def arrive(actor, order, *, arrived_at=None, lat=None, lng=None, note: str = "", client_key: str = "") -> Attendance:
    """Record the actor's arrival at a must-attend order (idempotent on the order)."""
    from workorders.models import Status, WorkOrder

    order = _order(actor, order)
    # Lock the order so two arrivals at once make one attendance.
    order = WorkOrder.objects.select_for_update(of=("self",)).select_related("category", "region").get(pk=order.pk)
    existing = Attendance.objects.filter(order=order).select_related("worker").first()
    if existing is not None:
        return existing
    if not order.category.must_attend:
        raise DomainError("not_must_attend", _("This work order does not have to be attended in person."))
    if not access.may_work_in(actor, order.region_path):
        raise Forbidden("outside_grid", _("Only the grid's worker or the community's staff can attend this order."))
    if order.status in (Status.VOIDED, Status.DUPLICATE):
        raise DomainError("order_voided", _("This work order was voided; there is nothing to attend."))
    when = parse_when(arrived_at, field="arrived_at")
    if when < order.reported_at:
        raise DomainError("arrival_before_report", _("The arrival cannot be earlier than the report."), field="arrived_at")
    row = Attendance(
        order=order,
        worker=actor,
        reported_at=order.reported_at,
        arrived_at=when,
        seconds=int((when - order.reported_at).total_seconds()),
        lat=_coord(lat, -90, 90, "lat"),
        lng=_coord(lng, -180, 180, "lng"),
        note=(note or "").strip()[:500],
        client_key=(client_key or "").strip()[:64],
    )
    row.set_region(order.region)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return Attendance.objects.get(order=order)
    return row


def attendance_stats(region_path: str, since: dt.datetime, until: dt.datetime) -> dict:
    """Must-attend figures of an area for orders reported in [since, until): orders, attended,
    on time (within ON_TIME_SECONDS), mean and longest seconds to arrive."""
    from workorders.models import Status, WorkOrder

    orders = WorkOrder.objects.filter(
        prefix_q("region_path", region_path), category__must_attend=True, reported_at__gte=since, reported_at__lt=until
    ).exclude(status__in=[Status.VOIDED, Status.DUPLICATE])
    total = orders.count()
    rows = Attendance.objects.filter(order__in=orders).aggregate(
        n=Count("id"), on_time=Count("id", filter=Q(seconds__lte=ON_TIME_SECONDS)), mean=Avg("seconds"), longest=Max("seconds")
    )
    return {
        "orders": total,
        "attended": rows["n"] or 0,
        "on_time": rows["on_time"] or 0,
        "mean_seconds": int(rows["mean"]) if rows["mean"] is not None else None,
        "longest_seconds": rows["longest"],
    }


# ---------------------------------------------------------------- must-report


def form_categories(form: str) -> list[dict]:
    """{pk, code, name} of the categories a quick form offers."""
    from workorders.models import Category

    spec = FORMS.get(form)
    if spec is None:
        return []
    qs = Category.objects.filter(active=True, is_group=False)
    if "code" in spec:
        qs = qs.filter(code=spec["code"])
    elif "group" in spec:
        qs = qs.filter(Q(parent__code=spec["group"]) | Q(parent__parent__code=spec["group"]))
    else:
        qs = qs.filter(kind__in=spec["kinds"])
    return list(qs.order_by("sort", "code").values("pk", "code", "name"))


def _category_for(form: str, category):
    from workorders.models import Category

    spec = FORMS[form]
    if category in (None, "") and "code" in spec:
        category = spec["code"]
    if category in (None, "") and "default" in spec:
        category = spec["default"]
    if category in (None, ""):
        raise DomainError("category_required", _("Choose what kind of problem it is."), field="category")
    if not isinstance(category, Category):
        value = str(category).strip()
        found = Category.objects.filter(pk=int(value)).first() if value.isdigit() else Category.objects.filter(code=value).first()
        if found is None:
            raise DomainError("category_unknown", _("There is no such category of work."), field="category")
        category = found
    allowed = {c["pk"] for c in form_categories(form)}
    if category.pk not in allowed:
        raise DomainError("category_not_in_form", _("%(name)s cannot be reported with this form."), field="category", name=category.name)
    return category


def _report_region(actor, region):
    if region in (None, ""):
        grids = access.worker_grids(actor)
        return grids[0] if grids else None
    if isinstance(region, Region):
        return region
    try:
        return Region.objects.get(pk=int(region))
    except (Region.DoesNotExist, ValueError, TypeError):
        raise NotFound("not_found", _("Not found, or outside your area."))


@transaction.atomic
def quick_report(
    actor,
    *,
    form: str,
    category=None,
    title: str = "",
    description: str = "",
    lat=None,
    lng=None,
    region=None,
    attributes=None,
    urgent=False,
    files=(),
    client_key: str = "",
):
    """A must-report quick form (hazard, arrival) or a generic quick incident report by a grid
    worker; returns the WorkOrder. With a `client_key`, a replay returns the first order."""
    from workorders import services as wo
    from workorders.models import Source, WorkOrder

    if form not in FORMS:
        raise DomainError("form_unknown", _("There is no such report form."), field="form")
    client_key = (client_key or "").strip()[:64]
    if client_key:
        existing = WorkOrder.objects.filter(reporter=actor, client=f"fw:{client_key}").first()
        if existing is not None:
            return existing
    if not access.is_field_worker(actor):
        raise Forbidden("forbidden", _("Only grid workers and community staff use the field report forms."))
    category = _category_for(form, category)
    has_point = lat not in (None, "") and lng not in (None, "")
    place = None if has_point else _report_region(actor, region)
    if place is not None and not access.may_work_in(actor, place.path):
        raise Forbidden("outside_grid", _("That place is outside your grid."))
    if not (description or "").strip() and form != "arrival":
        raise DomainError("description_required", _("Say what you found."), field="description")
    order = wo.report(
        actor,
        category=category,
        source=Source.GRID,
        title=title,
        description=description,
        region=place,
        lat=lat if has_point else None,
        lng=lng if has_point else None,
        attributes=attributes or {},
        urgent=_flag(urgent),
        files=_as_files(files),
        client=f"fw:{client_key}" if client_key else "fw",
    )
    if not access.may_work_in(actor, order.region_path):
        # The point fell in a grid that is not the actor's: nothing is kept.
        raise Forbidden("outside_grid", _("That place is outside your grid."))
    return order


def since_text(seconds: int) -> str:
    """'3 h 5 min' style duration for lists."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return str(_("%(d)s d %(h)s h")) % {"d": days, "h": hours}
    if hours:
        return str(_("%(h)s h %(m)s min")) % {"h": hours, "m": minutes}
    return str(_("%(m)s min")) % {"m": max(1, minutes) if seconds >= 60 else 0}

