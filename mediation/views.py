"""Mediation pages: the case list of the user's area, a case page with a form for each step, the
printable agreement (协议书) and the KPI page (read from rollup rows only).

Views parse input, call mediation/services.py, render. Cases come through mediation/access.py,
so an id outside the user's area is a 404; a step the user may not take is a 403.
"""

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import in_scope
from insights.access import Span, build
from insights.models import Period
from linli.errors import DomainError
from linli.pages import form_error, page, submit
from linli.paging import keyset
from workorders import access as wo_access
from workorders.models import ENDED_STATUSES, Status

from . import access, figures, services
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
from .models import Case, CourtResult

PAGE = 30
# The service's field names, as the intake forms name them.
PARTY_FIELDS = {"phone": "applicant_phone", "name": "applicant", "parties": "applicant"}

# Login required and mediation.view (staff with an area, or a mediator); NotFound → 404,
# Forbidden → 403.
mediation_view = page("mediation.view")


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
    rows = keyset(qs.select_related("order__assignee"), after=after, limit=PAGE, order=("-id",))
    today = timezone.localdate()
    due = list(access.due_follow_ups(request.user, today + dt.timedelta(days=7))[:20])
    for fu in due:
        fu.overdue = fu.due_on < today
    params = {"status": status, "category": category or ""}
    return render(request, "mediation/case_list.html", {
        "cases": rows.items,
        "status": status,
        "category": category,
        "categories": access.categories(),
        "status_filters": STATUS_FILTERS,
        "next_url": "?" + urlencode({**params, "after": rows.next_after}) if rows.next_after else "",
        "first_url": "?" + urlencode(params) if after else "",
        "due": due,
        "waiting": list(access.waiting_orders(request.user)[:20]) if access.is_staff(request.user) else [],
        "may_take_in": access.is_staff(request.user),
    })


@mediation_view
def case_open(request, order_pk):
    """Open the case of a waiting mediation order."""
    user = request.user
    if not access.is_staff(user):
        raise PermissionDenied
    order = access.waiting_order(user, order_pk)
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
        opened = _attempt(form, lambda: services.open_case_with_parties(
            user, order, facts=d["facts"], how=d["how"], referred_by=d["referred_by"], parties=parties), PARTY_FIELDS)
        if opened:
            messages.success(request, _("Case %(number)s opened.") % {"number": order.number})
            return redirect("mediation:case_detail", opened.pk)
    return render(request, "mediation/case_open.html", {"form": form, "order": order})


# ---------------------------------------------------------------- intake


@mediation_view
def case_new(request):
    user = request.user
    if not access.is_staff(user):
        raise PermissionDenied
    regions = access.intake_places(user)
    categories = access.categories()
    form = IntakeForm(request.POST or None, categories=categories, regions=regions)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        parties = [{"name": d["applicant"], "role": "applicant", "phone": d["applicant_phone"]}]
        if d["respondent"]:
            parties.append({"name": d["respondent"], "role": "respondent", "phone": d["respondent_phone"]})
        case = _attempt(form, lambda: services.take_in(
            user,
            category=next((c for c in categories if str(c.pk) == d["category"]), None),
            region=next((r for r in regions if str(r.pk) == d["region"]), None),
            title=d["title"],
            facts=d["facts"],
            how=d["how"],
            referred_by=d["referred_by"],
            parties=parties,
        ), PARTY_FIELDS)
        if case:
            messages.success(request, _("Case %(number)s opened.") % {"number": case.order.number})
            return redirect("mediation:case_detail", case.pk)
    return render(request, "mediation/case_new.html", {"form": form})


def _attempt(form, call, aliases=None):
    """Call the service for a valid form: its result, or None with the refusal at the form."""
    try:
        return call()
    except DomainError as error:
        form_error(form, error, aliases)
        return None


# ---------------------------------------------------------------- the case page


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
            forms[name] = cls(people=access.mediator_choices(case), initial={"mediators": [u.pk for u in case.mediators.all()]}) if is_dispatcher and is_open else None
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
    if submit(form, lambda _data: call(case, form), aliases):
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
    people = access.mediator_choices(case)
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
    fu = access.follow_up(request.user, pk)
    form = FollowUpForm(request.POST)
    if submit(form, lambda data: services.record_follow_up(request.user, fu, **data)):
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
    return render(request, "mediation/agreement_print.html", {
        "committee": access.committee(case),
        "case": case,
        "order": case.order,
        "parties": list(case.parties.all()),
        "terms": list(case.terms.all()),
        "mediators": list(case.mediators.all()),
    })


# ---------------------------------------------------------------- figures (rollup rows only)


@mediation_view
def kpi_page(request):
    """The mediation figures of a place for a month, quarter or year, its units below and the
    trend (the mediation board: insights' board builder over the med.* cells)."""
    g = request.GET
    region = access.figures_place(request.user, g.get("region"))
    if region is None:
        raise PermissionDenied
    period = g.get("period") if g.get("period") in figures.PERIODS else Period.MONTH
    today = timezone.localdate()
    try:
        start = figures.period_start(period, dt.date.fromisoformat(g.get("start", "")))
    except ValueError:
        start = figures.period_start(period, today)
    b = build(figures.BOARD, request.user, region, Span(period, start, figures.period_end(period, start)))
    params = {"region": region.pk, "period": period}
    following = figures.period_end(period, start)
    return render(request, "mediation/kpis.html", {
        "region": region,
        "period": period,
        "periods": [(p, Period(p).label) for p in figures.PERIODS],
        "start": start,
        "period_label": figures.period_label(period, start),
        "figures": b.figures,
        "units": [{**u["k"], "region": u["region"]} for u in b.children],
        "chart": b.chart,
        "prev_url": "?" + urlencode({**params, "start": figures.previous_start(period, start).isoformat()}),
        "next_url": "?" + urlencode({**params, "start": following.isoformat()}) if following <= today else "",
        "parent": access.parent_in_area(request.user, region),
    })
