"""Pages of 三必 on the ground: the must-attend orders of the user's field area (arrive, timed from
the report) and the must-report quick forms (a safety hazard, a key person's arrival, any
incident) that reach the community as work orders.

Views parse, call fieldwork.services.attend, render; the orders come through fieldwork.access.
"""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.errors import DomainError
from linli.pages import page, raise_access

from .. import access, forms
from ..models import Attendance
from ..services import attend

# ---------------------------------------------------------------- must attend


@page()
def attend_list(request):
    user = request.user
    if not access.attend_paths(user):
        raise PermissionDenied
    now = timezone.now()
    orders = list(access.must_attend_orders(user)[:100])
    recent = list(
        access.must_attend_orders(user, open_only=False).filter(attendance__arrived_at__gte=now - dt.timedelta(days=7))
        .exclude(pk__in=[o.pk for o in orders])[:30]
    )
    rows = []
    for o in orders + recent:
        a = getattr(o, "attendance", None) if _has_attendance(o) else None
        rows.append({
            "pk": o.pk,
            "number": o.number,
            "title": o.title,
            "category": o.category.name,
            "place": o.address or o.region.name,
            "urgent": o.priority == "urgent",
            "since": attend.since_text((now - o.reported_at).total_seconds()),
            "reported_at": timezone.localtime(o.reported_at),
            "attendance": {
                "worker": str(a.worker),
                "arrived_at": timezone.localtime(a.arrived_at),
                "took": attend.since_text(a.seconds),
                "late": a.seconds > attend.ON_TIME_SECONDS,
            } if a else None,
            "open": o in orders,
        })
    return render(request, "fieldwork/attend/list.html", {"rows": rows, "error": None})


def _has_attendance(order) -> bool:
    try:
        return order.attendance is not None
    except Attendance.DoesNotExist:
        return False


@page()
@require_POST
def attend_arrive(request, order_id):
    user = request.user
    p = request.POST
    try:
        row = attend.arrive(
            user, order_id, lat=forms.text(p, "lat", 30) or None, lng=forms.text(p, "lng", 30) or None,
            note=forms.text(p, "note", 500), client_key=forms.text(p, "client_key", 64),
        )
    except DomainError as e:
        raise_access(e)
        messages.error(request, e.text())
    else:
        messages.success(request, _("Arrival recorded: %(took)s after the report.") % {"took": attend.since_text(row.seconds)})
    return redirect("fieldwork:attend_list")


# ---------------------------------------------------------------- must report


def _report_grid(user):
    grids = access.worker_grids(user)
    return grids[0] if grids else None


@page()
def quick_report(request, form):
    user = request.user
    if form not in attend.FORMS:
        raise Http404
    if not access.is_field_worker(user):
        raise PermissionDenied
    from workorders.forms import attribute_fields, pick_category
    from workorders.models import Category, Kind

    choices = attend.form_categories(form)
    spec = attend.FORMS[form]
    fixed = spec.get("code")
    chosen = request.POST.get("category") or request.GET.get("category") or fixed or spec.get("default")
    category = None
    if chosen:
        category = pick_category(chosen, kinds=(Kind.INCIDENT, Kind.DEMAND)) if str(chosen).isdigit() else Category.objects.filter(code=chosen).first()
    error = None
    if request.method == "POST":
        p = request.POST
        try:
            order = attend.quick_report(
                user, form=form, category=p.get("category") or fixed, title=forms.text(p, "title", 200),
                description=forms.text(p, "description"), lat=forms.text(p, "lat", 30) or None, lng=forms.text(p, "lng", 30) or None,
                attributes=forms.attributes_from(p), urgent=bool(p.get("urgent")), files=request.FILES.getlist("files"),
                client_key=forms.text(p, "client_key", 64),
            )
        except DomainError as e:
            raise_access(e)
            error = e
        else:
            messages.success(request, _("Reported as %(number)s; the community has it now.") % {"number": order.number})
            return redirect("workorders:detail", order.pk)
    alternatives = []
    if not fixed and choices:
        cats = {c.pk: c for c in Category.objects.filter(pk__in=[c["pk"] for c in choices]).prefetch_related("attributes")}
        alternatives = [(c["pk"], attribute_fields(cats[c["pk"]])) for c in choices if c["pk"] in cats]
    return render(request, "fieldwork/report/form.html", {
        "form": form,
        "title": spec["label"],
        "choices": choices,
        "alternatives": alternatives,
        "fixed": fixed,
        "category": category,
        "fields": attribute_fields(category, request.POST if request.method == "POST" else None, error.field if error else ""),
        "error": error,
        "data": request.POST,
        "grid": _report_grid(user),
        "forms": [(k, v["label"]) for k, v in attend.FORMS.items()],
    })
