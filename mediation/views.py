"""Mediation pages: the case list of the user's area, a case page with a form for each step, the
printable agreement (协议书) and the KPI page (read from rollup rows only).

Views parse input, call mediation/services.py, render. Cases come through mediation/access.py,
so an id outside the user's area is a 404; a step the user may not take is a 403.
"""

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import in_scope, scope_paths
from accounts.models import RoleAssignment, User
from insights.models import Period, Rollup
from linli.db import prefix_q
from linli.errors import DomainError, Forbidden, NotFound
from linli.pages import page
from regions.access import home_region
from regions.models import Level, Region
from workorders import access as wo_access
from workorders.models import ENDED_STATUSES, Category, Kind, Status

from . import access, kpis, services
from .forms import (
    STATUS_FILTERS,
    AgreementRecordForm,
    CloseForm,
    CourtApplyForm,
    CourtResultForm,
    FollowUpForm,
    IntakeForm,
    MediatorsForm,
    OpenCaseForm,
    PartyForm,
    SessionForm,
)
from .models import Case, CourtResult, FollowUp

PAGE = 30


def _staff_or_mediator(user) -> bool:
    return access.is_staff(user) or user.mediation_cases.exists()


# Login required; staff or a mediator; NotFound → 404, Forbidden → 403.
mediation_view = page(allow=_staff_or_mediator)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _categories():
    return list(Category.objects.filter(kind=Kind.MEDIATION, is_group=False, active=True).order_by("sort", "code"))


# ---------------------------------------------------------------- list


@mediation_view
def case_list(request):
    g = request.GET
    status = g.get("status") if g.get("status") in {k for k, _l in STATUS_FILTERS} else "open"
    category = _int(g.get("category"))
    qs = access.cases(request.user)
    if status == "open":
        qs = qs.exclude(order__status__in=ENDED_STATUSES)
    elif status == "closed":
        qs = qs.filter(order__status=Status.CLOSED)
    if category:
        qs = qs.filter(order__category_id=category)
    after = _int(g.get("after"))
    if after:
        qs = qs.filter(pk__lt=after)
    rows = list(qs.select_related("order__assignee").order_by("-pk")[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    today = timezone.localdate()
    due = list(services.due_follow_ups(request.user, today + dt.timedelta(days=7))[:20])
    for fu in due:
        fu.overdue = fu.due_on < today
    params = {"status": status, "category": category or ""}
    return render(request, "mediation/case_list.html", {
        "cases": rows,
        "status": status,
        "category": category,
        "categories": _categories(),
        "status_filters": STATUS_FILTERS,
        "next_url": "?" + urlencode({**params, "after": rows[-1].pk}) if more else "",
        "first_url": "?" + urlencode(params) if after else "",
        "due": due,
        "waiting": list(_waiting_orders(request.user)[:20]) if access.is_staff(request.user) else [],
        "may_take_in": access.is_staff(request.user),
    })


def _waiting_orders(user):
    """Mediation work orders of the area that came in by another channel and have no case yet."""
    return (
        wo_access.orders(user)
        .filter(kind=Kind.MEDIATION, mediation__isnull=True)
        .exclude(status__in=ENDED_STATUSES)
        .order_by("-pk")
    )


@mediation_view
def case_open(request, order_pk):
    """Open the case of a waiting mediation order."""
    user = request.user
    if not access.is_staff(user):
        raise PermissionDenied
    order = _waiting_orders(user).filter(pk=_int(order_pk)).first()
    if order is None:
        raise Http404
    initial = {"facts": order.description or order.title, "applicant": order.reporter_name}
    if order.reporter_phone_enc:
        initial["applicant_phone"] = order.reporter_phone()
    form = OpenCaseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        resident = order.resident if order.resident_id and in_scope(user, order.resident.region_path) else None
        parties = [{"name": d["applicant"], "role": "applicant", "phone": d["applicant_phone"], "resident": resident}]
        if d["respondent"]:
            parties.append({"name": d["respondent"], "role": "respondent", "phone": d["respondent_phone"]})
        try:
            case = services.open_case_with_parties(user, order, facts=d["facts"], how=d["how"], referred_by=d["referred_by"], parties=parties)
        except DomainError as e:
            _form_error(form, e, {"phone": "applicant_phone", "name": "applicant", "parties": "applicant"})
        else:
            messages.success(request, _("Case %(number)s opened.") % {"number": order.number})
            return redirect("mediation:case_detail", case.pk)
    return render(request, "mediation/case_open.html", {"form": form, "order": order})


# ---------------------------------------------------------------- intake


def _intake_regions(user):
    """Grids and communities of the user's area (a desk takes cases in for its own places)."""
    q = Q(pk__in=[])
    for p in scope_paths(user, wo_access.AREA_ROLES):
        q |= prefix_q("path", p)
    regions = list(Region.objects.filter(q, level__in=[Level.COMMUNITY, Level.GRID], valid_to__isnull=True).order_by("path")[:600])
    names = {r.path: r.name for r in regions}
    for r in regions:
        parent = names.get(r.path[: Region.steplen * (r.level - 1)])
        r.label = f"{parent} · {r.name}" if parent and r.level == Level.GRID else r.name
    return regions


@mediation_view
def case_new(request):
    user = request.user
    if not access.is_staff(user):
        raise PermissionDenied
    regions = _intake_regions(user)
    form = IntakeForm(request.POST or None, categories=_categories(), regions=regions)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        parties = [{"name": d["applicant"], "role": "applicant", "phone": d["applicant_phone"]}]
        if d["respondent"]:
            parties.append({"name": d["respondent"], "role": "respondent", "phone": d["respondent_phone"]})
        try:
            case = services.take_in(
                user,
                category=Category.objects.filter(pk=_int(d["category"])).first(),
                region=next((r for r in regions if str(r.pk) == d["region"]), None),
                title=d["title"],
                facts=d["facts"],
                how=d["how"],
                referred_by=d["referred_by"],
                parties=parties,
            )
        except DomainError as e:
            _form_error(form, e, {"phone": "applicant_phone", "name": "applicant", "parties": "applicant"})
        else:
            messages.success(request, _("Case %(number)s opened.") % {"number": case.order.number})
            return redirect("mediation:case_detail", case.pk)
    return render(request, "mediation/case_new.html", {"form": form})


def _form_error(form, error: DomainError, aliases=None):
    if isinstance(error, (NotFound, Forbidden)) or error.status in (403, 404):
        raise error
    field = (aliases or {}).get(error.field, error.field)
    if field and field in form.fields:
        form.add_error(field, error.text())
    else:
        form.add_error(None, error.text())


# ---------------------------------------------------------------- the case page


def _mediator_choices(case: Case):
    """Staff who could mediate here: area staff from the street down whose area holds the case."""
    path = case.region_path
    ancestors = [path[:i] for i in range(Region.steplen * Level.STREET, len(path) + 1, Region.steplen)]
    community = path[: Region.steplen * Level.COMMUNITY]
    roles = RoleAssignment.objects.filter(role__in=wo_access.AREA_ROLES).filter(Q(region_path__in=ancestors) | prefix_q("region_path", community))
    people = list(User.objects.filter(pk__in=roles.values("user_id"), is_active=True).order_by("username"))
    labels = {}
    for ra in roles.select_related("region"):
        labels.setdefault(ra.user_id, f"{ra.get_role_display()} · {ra.region.name}")
    for u in people:
        u.choice_label = f"{u} （{labels.get(u.pk, '')}）"
    return people


FORMS = {
    "party": PartyForm,
    "mediators": MediatorsForm,
    "session": SessionForm,
    "agreement": AgreementRecordForm,
    "court_apply": CourtApplyForm,
    "court_result": CourtResultForm,
    "close": CloseForm,
}


def _render_case(request, case: Case, bound: dict | None = None, status=200):
    user = request.user
    bound = bound or {}
    order = case.order
    may_work = access.may_work_on(user, case)
    is_dispatcher = wo_access.is_dispatcher(user, order)
    is_open = order.status not in ENDED_STATUSES
    forms = {}
    for name, cls in FORMS.items():
        if name in bound:
            forms[name] = bound[name]
        elif name == "mediators":
            forms[name] = cls(people=_mediator_choices(case), initial={"mediators": [u.pk for u in case.mediators.all()]}) if is_dispatcher and is_open else None
        else:
            forms[name] = cls()
    today = timezone.localdate()
    follow_ups = list(case.follow_ups.select_related("term", "by"))
    for fu in follow_ups:
        fu.overdue = not fu.result and fu.due_on < today
        fu.due_soon = not fu.result and today <= fu.due_on <= today + dt.timedelta(days=7)
    window_ends = case.court_window_ends
    ctx = {
        "case": case,
        "order": order,
        "parties": list(case.parties.all()),
        "sessions": list(case.sessions.select_related("by")),
        "terms": list(case.terms.all()),
        "follow_ups": follow_ups,
        "mediators": list(case.mediators.all()),
        "forms": forms,
        "follow_up_form": bound.get("follow_up") or FollowUpForm(),
        "follow_up_error_id": bound.get("follow_up_id"),
        "may_work": may_work,
        "is_dispatcher": is_dispatcher,
        "is_open": is_open,
        "can_session": may_work and order.status in (Status.DISPATCHED, Status.IN_PROGRESS),
        "can_agree": may_work and not case.has_agreement and order.status in (Status.DISPATCHED, Status.IN_PROGRESS),
        "can_close": is_dispatcher and is_open and (case.has_agreement or order.status != Status.FILED),
        "can_court_apply": may_work and case.has_agreement and (not case.court_applied_on or case.court_result == CourtResult.REFUSED),
        "can_court_result": may_work and case.court_applied_on and not case.court_result,
        "window_ends": window_ends,
        "window_open": window_ends is not None and today <= window_ends,
        "open_form": next(iter(bound), ""),
        "today": today,
    }
    return render(request, "mediation/case_detail.html", ctx, status=status)


@mediation_view
def case_detail(request, pk):
    return _render_case(request, access.case(request.user, pk))


def _step(request, pk, name, call, message, aliases=None, form_kwargs=None):
    """Bind the step's form, call the service, and either go back to the case page with a
    message or show the page again with the error at the form (nothing saved)."""
    case = access.case(request.user, pk)
    form = FORMS[name](request.POST, **(form_kwargs or {}))
    if form.is_valid():
        try:
            call(case, form)
        except DomainError as e:
            _form_error(form, e, aliases)
        else:
            messages.success(request, message)
            return redirect("mediation:case_detail", case.pk)
    return _render_case(request, case, {name: form}, status=400)


@require_POST
@mediation_view
def case_party(request, pk):
    return _step(
        request, pk, "party",
        lambda case, f: services.add_party(request.user, case, **f.cleaned_data),
        _("Party added."),
    )


@require_POST
@mediation_view
def case_mediators(request, pk):
    case = access.case(request.user, pk)
    people = _mediator_choices(case)
    by_id = {str(u.pk): u for u in people}

    def call(case, f):
        chosen = [by_id[i] for i in request.POST.getlist("mediators") if i in by_id]
        services.assign_mediators(request.user, case, mediators=chosen, note=f.cleaned_data["note"])

    return _step(request, pk, "mediators", call, _("Mediators chosen."), form_kwargs={"people": people})


@require_POST
@mediation_view
def case_session(request, pk):
    return _step(
        request, pk, "session",
        lambda case, f: services.record_session(request.user, case, **f.cleaned_data),
        _("Session recorded."),
    )


@require_POST
@mediation_view
def case_agreement(request, pk):
    def call(case, f):
        d = f.cleaned_data
        services.record_agreement(request.user, case, form=d["form"], signed_on=d["signed_on"], text=d["text"], terms=f.terms())

    return _step(request, pk, "agreement", call, _("Agreement recorded; follow-up visits are scheduled on its due dates."), aliases={"terms": "text"})


@require_POST
@mediation_view
def follow_up_result(request, pk):
    fu = FollowUp.objects.filter(pk=_int(pk), case__in=access.cases(request.user).values("pk")).select_related("case").first()
    if fu is None:
        raise Http404
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.record_follow_up(request.user, fu, **form.cleaned_data)
        except DomainError as e:
            _form_error(form, e)
        else:
            messages.success(request, _("Follow-up visit recorded."))
            return redirect("mediation:case_detail", fu.case_id)
    case = access.case(request.user, fu.case_id)
    return _render_case(request, case, {"follow_up": form, "follow_up_id": fu.pk}, status=400)


@require_POST
@mediation_view
def court_apply(request, pk):
    return _step(
        request, pk, "court_apply",
        lambda case, f: services.apply_to_court(request.user, case, **f.cleaned_data),
        _("Court confirmation applied for."),
    )


@require_POST
@mediation_view
def court_result(request, pk):
    return _step(
        request, pk, "court_result",
        lambda case, f: services.record_court_result(request.user, case, **f.cleaned_data),
        _("Court decision recorded."),
    )


@require_POST
@mediation_view
def case_close(request, pk):
    return _step(
        request, pk, "close",
        lambda case, f: services.close_case(request.user, case, outcome=f.cleaned_data["outcome"] or None, note=f.cleaned_data["note"]),
        _("Case closed."),
    )


@mediation_view
def agreement_print(request, pk):
    case = access.case(request.user, pk)
    if not case.has_agreement:
        raise Http404
    committee = case.region if case.region.level <= Level.COMMUNITY else Region.objects.get(path=case.region_path[: Region.steplen * Level.COMMUNITY])
    return render(request, "mediation/agreement_print.html", {
        "committee": committee,
        "case": case,
        "order": case.order,
        "parties": list(case.parties.all()),
        "terms": list(case.terms.all()),
        "mediators": list(case.mediators.all()),
    })


# ---------------------------------------------------------------- KPIs (rollup rows only)


def _ratio(num, den, scale=100.0, digits=1):
    return round(num * scale / den, digits) if den else None


def _figures(values: dict) -> dict:
    v = lambda k: values.get(k, 0.0)  # noqa: E731
    return {
        "received": int(v("med.received")),
        "closed": int(v("med.closed")),
        "agreed": int(v("med.agreed")),
        "success": _ratio(v("med.agreed"), v("med.closed")),
        "due": int(v("med.agreements_due")),
        "performed": int(v("med.agreements_performed")),
        "performance": _ratio(v("med.agreements_performed"), v("med.agreements_due")),
        "rated": int(v("med.rated")),
        "satisfaction": _ratio(v("med.rating_sum"), v("med.rated"), 1.0, 2),
        "avg_days": _ratio(v("med.days_sum"), v("med.closed"), 1.0, 1),
    }


@mediation_view
def kpi_page(request):
    user = request.user
    g = request.GET
    region = None
    if g.get("region"):
        region = Region.objects.filter(pk=_int(g.get("region"))).first()
        if region is None or not in_scope(user, region.path, wo_access.AREA_ROLES):
            raise Http404
    region = region or home_region(user)
    if region is None or not in_scope(user, region.path, wo_access.AREA_ROLES):
        raise PermissionDenied
    period = g.get("period") if g.get("period") in kpis.PERIODS else Period.MONTH
    today = timezone.localdate()
    try:
        start = kpis.period_start(period, dt.date.fromisoformat(g.get("start", "")))
    except ValueError:
        start = kpis.period_start(period, today)
    # The place and its units below, this period.
    rows = Rollup.objects.filter(
        prefix_q("region_path", region.path), level__in=[region.level, region.level + 1], period=period, period_start=start,
        indicator__startswith="med.",
    ).values_list("region_id", "indicator", "value")
    by_region: dict[int, dict] = {}
    for rid, ind, val in rows:
        by_region.setdefault(rid, {})[ind] = val
    figures = _figures(by_region.get(region.pk, {}))
    children = list(Region.objects.filter(prefix_q("path", region.path), depth=region.depth + 1).order_by("path")) if region.level < Level.GRID else []
    units = []
    for c in children:
        f = _figures(by_region.get(c.pk, {}))
        f["region"] = c
        units.append(f)
    # The trend: the last 12 periods of this place.
    starts = [start]
    for _i in range({Period.MONTH: 11, Period.QUARTER: 7}.get(period, 4)):
        starts.append(kpis.previous_start(period, starts[-1]))
    starts.reverse()
    trend_rows = Rollup.objects.filter(region=region, period=period, period_start__in=starts, indicator__in=["med.received", "med.closed", "med.agreed"]).values_list("period_start", "indicator", "value")
    trend = {s: {} for s in starts}
    for s, ind, val in trend_rows:
        trend[s][ind] = val
    chart = {
        "labels": [_label(period, s) for s in starts],
        "series": [
            {"name": _("Cases received"), "data": [int(trend[s].get("med.received", 0)) for s in starts]},
            {"name": _("Cases closed"), "data": [int(trend[s].get("med.closed", 0)) for s in starts]},
            {"name": _("Cases with agreement"), "data": [int(trend[s].get("med.agreed", 0)) for s in starts]},
        ],
    }
    params = {"region": region.pk, "period": period}
    return render(request, "mediation/kpis.html", {
        "region": region,
        "period": period,
        "periods": [(p, Period(p).label) for p in kpis.PERIODS],
        "start": start,
        "period_label": _label(period, start),
        "figures": figures,
        "units": units,
        "chart": chart,
        "prev_url": "?" + urlencode({**params, "start": kpis.previous_start(period, start).isoformat()}),
        "next_url": "?" + urlencode({**params, "start": kpis.period_end(period, start).isoformat()}) if kpis.period_end(period, start) <= today else "",
        "parent": Region.objects.filter(path=region.path[: -Region.steplen]).first() if region.level > Level.CITY and in_scope(user, region.path[: -Region.steplen], wo_access.AREA_ROLES) else None,
    })


def _label(period: str, start: dt.date) -> str:
    if period == Period.MONTH:
        return f"{start.year}-{start.month:02d}"
    if period == Period.QUARTER:
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return str(start.year)

