"""Every step of a mediation case. One `transaction.atomic` function per action: it locks the
case, checks the actor's scope and right, validates, writes, and leaves history (auditlog rows
through the model registrations, and a Transition row on the order so the order's timeline shows
the mediation too). Steps that move the order (file, dispatch, start, handle, close) go through
workorders.services. A refused step raises DomainError and changes nothing.

`actor=None` means the system (demo generator, commands).
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import in_scope
from accounts.models import User
from linli import pii
from linli.errors import Conflict, DomainError, Forbidden
from regions.models import Region
from workorders import access as wo_access
from workorders import services as wo
from workorders.models import Category, Kind, Source, Status, Transition, WorkOrder

from . import access
from .models import (
    COURT_WINDOW_DAYS,
    DEFAULT_FOLLOW_UP_DAYS,
    AgreementForm,
    Case,
    CourtResult,
    FollowUp,
    FollowUpResult,
    How,
    Outcome,
    Party,
    PartyRole,
    Session,
    Term,
)

MAX_TERMS = 20


# ---------------------------------------------------------------- helpers


def _today() -> dt.date:
    return timezone.localdate()


def _lock(case) -> Case:
    pk = case.pk if isinstance(case, Case) else case
    try:
        return Case.objects.select_for_update().select_related("order", "order__category", "order__handler_region", "region").get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise DomainError("not_found", _("Not found, or outside your area."), status=404)


def _check(actor, case: Case):
    if actor is None:
        return
    if not access.cases(actor).filter(pk=case.pk).exists():
        raise DomainError("not_found", _("Not found, or outside your area."), status=404)
    access.require_worker(actor, case)


def _open_case(case: Case):
    if case.order.status in (Status.CLOSED, Status.VOIDED, Status.DUPLICATE):
        raise Conflict("case_closed", _("This mediation case is closed."))


def _log(case: Case, actor, action: str, note: str = "", data: dict | None = None):
    """A line on the order's timeline; the order's status does not change."""
    order = case.order
    Transition.objects.create(
        order=order,
        action=action,
        from_status=order.status,
        to_status=order.status,
        actor=actor if actor is not None and actor.pk else None,
        at=timezone.now(),
        note=(note or "").strip()[:1000],
        data=data or {},
    )


def _wo_actor(actor, order: WorkOrder):
    """The engine checks its own handler rule (assignee, dispatchers); a co-mediator who is
    neither has already been allowed here, so the engine step runs as the system and the
    note names them."""
    if actor is None or wo_access.is_handler(actor, order):
        return actor, ""
    return None, f"（{actor}）"


def _date(value, field: str, label) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, dt.date):
        raise DomainError("date_required", _("Give the date: %(what)s."), field=field, what=label)
    return value


def _not_future(day: dt.date, field: str):
    if day > _today():
        raise DomainError("date_in_future", _("That date is in the future."), field=field)


def _text(value, field: str, label, max_length: int) -> str:
    text = pii.clean_text(value) if max_length <= 300 else (value or "").strip()
    if not text:
        raise DomainError("required", _("Fill in %(what)s."), field=field, what=label)
    if len(text) > max_length:
        raise DomainError("too_long", _("%(what)s is at most %(n)s characters."), field=field, what=label, n=max_length)
    return text


def _phone(raw, field="phone") -> str:
    try:
        return pii.normalize_phone(raw)
    except ValueError:
        raise DomainError("phone_invalid", _("That is not a phone number (a mobile of 11 digits or a landline with its area code)."), field=field)


def _changed(case: Case):
    """Refresh the case's KPI cells once the transaction has committed."""
    from . import tasks

    pk = case.pk
    transaction.on_commit(lambda: tasks.refresh_case_kpis(pk))


# ---------------------------------------------------------------- intake


@transaction.atomic
def open_case(actor, order, *, facts: str, how: str = How.APPLICATION, referred_by: str = "") -> Case:
    """Attach the mediation record to a work order of kind mediation."""
    order = order if isinstance(order, WorkOrder) else WorkOrder.objects.get(pk=order)
    if actor is not None and not access.is_staff(actor):
        raise Forbidden("forbidden", _("Only staff can open a mediation case."))
    if actor is not None and not wo_access.can_see(actor, order):
        raise DomainError("not_found", _("Not found, or outside your area."), status=404)
    if order.kind != Kind.MEDIATION:
        raise DomainError("not_mediation", _("This work order is not a mediation case."))
    if order.status in (Status.CLOSED, Status.VOIDED, Status.DUPLICATE):
        raise Conflict("case_closed", _("This mediation case is closed."))
    if Case.objects.filter(order=order).exists():
        raise Conflict("case_exists", _("This work order already has a mediation case."))
    if how not in How.values:
        raise DomainError("how_invalid", _("Say how the case came: a party's application, own initiative or a referral."), field="how")
    referred_by = pii.clean_text(referred_by)[:100]
    if how == How.REFERRED and not referred_by:
        raise DomainError("required", _("Fill in %(what)s."), field="referred_by", what=_("referred by"))
    case = Case(
        order=order,
        region=order.region,
        region_path=order.region_path,
        how=how,
        referred_by=referred_by if how == How.REFERRED else "",
        facts=_text(facts, "facts", _("the facts of the dispute"), 4000),
        opened_by=actor if actor is not None and actor.pk else None,
    )
    case.save()
    _log(case, actor, "mediation_open", "", {"how": how})
    _changed(case)
    return case


@transaction.atomic
def take_in(
    actor,
    *,
    category,
    region: Region,
    title: str,
    facts: str,
    how: str = How.APPLICATION,
    referred_by: str = "",
    parties=(),
) -> Case:
    """A dispute taken in at the desk or by a grid worker: the work order (kind mediation, filed
    at once when the actor is a dispatcher of its unit), the case and its first parties."""
    if actor is not None and not access.is_staff(actor):
        raise Forbidden("forbidden", _("Only staff can open a mediation case."))
    if isinstance(category, str):
        category = Category.objects.filter(code=category).first()
    if category is None or category.kind != Kind.MEDIATION:
        raise DomainError("category_unknown", _("Choose a type of dispute."), field="category")
    if region is None:
        raise DomainError("location_required", _("Say where it is: pick a point on the map or give the place."), field="region")
    if actor is not None and not in_scope(actor, region.path):
        raise Forbidden("forbidden", _("That place is outside your area."))
    facts_text = _text(facts, "facts", _("the facts of the dispute"), 4000)
    parties = [p for p in parties if pii.clean_text(p.get("name"))]
    if not parties:
        raise DomainError("party_required", _("Name at least one party."), field="parties")
    for p in parties:  # refuse bad input before anything is written
        _party_fields(actor, p)
    source = Source.WINDOW if how == How.APPLICATION else Source.GRID
    order = wo.report(actor, category=category, source=source, title=title, description=facts_text, region=region)
    if actor is None or wo_access.is_dispatcher(actor, order):
        wo.file(actor, order)
        order.refresh_from_db()
    case = open_case(actor, order, facts=facts_text, how=how, referred_by=referred_by)
    for p in parties:
        _add_party(case, _party_fields(actor, p))
    return case


@transaction.atomic
def open_case_with_parties(actor, order, *, facts: str, how: str = How.APPLICATION, referred_by: str = "", parties=()) -> Case:
    """The case of a mediation order that came in by another channel, with its first parties."""
    parties = [p for p in parties if pii.clean_text(p.get("name"))]
    if not parties:
        raise DomainError("party_required", _("Name at least one party."), field="parties")
    for p in parties:
        _party_fields(actor, p)
    case = open_case(actor, order, facts=facts, how=how, referred_by=referred_by)
    for p in parties:
        _add_party(case, _party_fields(actor, p))
    return case


def _party_fields(actor, data: dict) -> dict:
    name = _text(data.get("name"), "name", _("the name"), 50)
    role = data.get("role") or PartyRole.APPLICANT
    if role not in PartyRole.values:
        raise DomainError("role_invalid", _("Choose the party's role."), field="role")
    phone = _phone(data.get("phone") or "")
    resident = data.get("resident")
    if resident is not None and actor is not None and not in_scope(actor, resident.region_path):
        raise DomainError("resident_out_of_scope", _("That resident is outside your area."), field="resident")
    address = pii.clean_text(data.get("address"))[:200]
    return {"name": name, "role": role, "phone": phone, "resident": resident, "address": address}


def _add_party(case: Case, f: dict) -> Party:
    party = Party(case=case, name=f["name"], role=f["role"], resident=f["resident"], address=f["address"])
    party.set_phone(f["phone"])
    party.save()
    return party


@transaction.atomic
def add_party(actor, case, *, name: str, role: str = PartyRole.APPLICANT, phone: str = "", resident=None, address: str = "") -> Party:
    case = _lock(case)
    _check(actor, case)
    _open_case(case)
    fields = _party_fields(actor, {"name": name, "role": role, "phone": phone, "resident": resident, "address": address})
    if case.parties.count() >= 50:
        raise DomainError("too_many_parties", _("A case has at most 50 parties."))
    party = _add_party(case, fields)
    _log(case, actor, "mediation_party", party.name, {"party": party.pk, "role": party.role})
    return party


@transaction.atomic
def assign_mediators(actor, case, *, mediators, note: str = "") -> Case:
    """Choose who mediates. The first mediator becomes the order's assignee (the order is filed
    first when it was only reported)."""
    case = _lock(case)
    if actor is not None and not access.cases(actor).filter(pk=case.pk).exists():
        raise DomainError("not_found", _("Not found, or outside your area."), status=404)
    if actor is not None and not wo_access.is_dispatcher(actor, case.order):
        raise Forbidden("forbidden", _("Only the dispatchers of %(unit)s can do this."), unit=case.order.handler_region.name)
    _open_case(case)
    mediators = [m for m in mediators if m is not None]
    if not mediators:
        raise DomainError("mediator_required", _("Choose at least one mediator."), field="mediators")
    for m in mediators:
        if not isinstance(m, User) or not m.is_active or not wo_access.may_take(m, case.region_path):
            raise DomainError(
                "mediator_out_of_scope",
                _("%(name)s does not work in %(place)s; choose a mediator whose area holds it."),
                field="mediators",
                name=str(m),
                place=case.region.name,
            )
    order = case.order
    if order.status == Status.REPORTED:
        wo.file(actor, order)
        order.refresh_from_db()
    if order.assignee_id != mediators[0].pk or order.status == Status.FILED:
        if order.status not in (Status.FILED, Status.DISPATCHED, Status.IN_PROGRESS):
            raise Conflict("transition_not_allowed", _("Mediators can be chosen only while the case is open."))
        wo.dispatch(actor, order, assignee=mediators[0], note=note)
        order.refresh_from_db()
    case.mediators.set(mediators)
    _log(case, actor, "mediation_mediators", note, {"mediators": [m.pk for m in mediators]})
    return case


# ---------------------------------------------------------------- sessions and the agreement


@transaction.atomic
def record_session(actor, case, *, held_on, place: str, attendees: str, notes: str) -> Session:
    case = _lock(case)
    _check(actor, case)
    _open_case(case)
    order = case.order
    if order.status not in (Status.DISPATCHED, Status.IN_PROGRESS):
        raise Conflict("no_mediator", _("Choose a mediator first."))
    held_on = _date(held_on, "held_on", _("the date of the session"))
    _not_future(held_on, "held_on")
    if held_on < timezone.localdate(order.reported_at):
        raise DomainError("date_before_case", _("That date is before the case was received."), field="held_on")
    session = Session.objects.create(
        case=case,
        held_on=held_on,
        place=_text(place, "place", _("the place"), 100),
        attendees=_text(attendees, "attendees", _("who attended"), 300),
        notes=_text(notes, "notes", _("the notes"), 10000),
        by=actor if actor is not None and actor.pk else None,
    )
    if order.status == Status.DISPATCHED:
        wo_actor, who = _wo_actor(actor, order)
        wo.start(wo_actor, order, note=who)
        order.refresh_from_db()
    _log(case, actor, "mediation_session", session.place, {"session": session.pk, "held_on": held_on.isoformat()})
    return session


@transaction.atomic
def record_agreement(actor, case, *, form: str, signed_on, text: str = "", terms=()) -> Case:
    """The parties agree. Terms are rows (who, does what, by when); a follow-up visit is
    scheduled on each term's due date and a default one 30 days after the agreement. The order
    moves to handled with a note."""
    case = _lock(case)
    _check(actor, case)
    _open_case(case)
    if case.has_agreement:
        raise Conflict("agreement_exists", _("This case already has an agreement."))
    order = case.order
    if order.status not in (Status.DISPATCHED, Status.IN_PROGRESS):
        raise Conflict("no_mediator", _("Choose a mediator first."))
    if form not in AgreementForm.values:
        raise DomainError("form_invalid", _("Say whether the agreement is written or oral."), field="form")
    signed_on = _date(signed_on, "signed_on", _("the day of the agreement"))
    _not_future(signed_on, "signed_on")
    if signed_on < timezone.localdate(order.reported_at):
        raise DomainError("date_before_case", _("That date is before the case was received."), field="signed_on")
    text = (text or "").strip()[:10000]
    rows = []
    for i, t in enumerate(terms or []):
        party = pii.clean_text(t.get("party"))
        obligation = pii.clean_text(t.get("obligation"))
        due = t.get("due_on")
        if not party and not obligation and not due:
            continue
        if not party or not obligation:
            raise DomainError("term_incomplete", _("Term %(n)s: say who does what."), field="terms", n=i + 1)
        due = _date(due, "terms", _("the due date of term %(n)s") % {"n": i + 1})
        if due < signed_on:
            raise DomainError("term_due_early", _("Term %(n)s is due before the agreement was made."), field="terms", n=i + 1)
        if len(obligation) > 300 or len(party) > 50:
            raise DomainError("term_too_long", _("Term %(n)s is too long."), field="terms", n=i + 1)
        rows.append((party, obligation, due))
    if len(rows) > MAX_TERMS:
        raise DomainError("too_many_terms", _("An agreement has at most %(n)s terms."), field="terms", n=MAX_TERMS)
    if form == AgreementForm.WRITTEN and not rows and not text:
        raise DomainError("agreement_empty", _("Write down what was agreed: the terms or the text."), field="terms")
    if not rows and not text:
        raise DomainError("agreement_empty", _("Write down what was agreed: the terms or the text."), field="text")

    case.agreement_form = form
    case.agreement_text = text
    case.signed_on = signed_on
    case.outcome = Outcome.AGREEMENT
    case.performance_due = max([due for _p, _o, due in rows], default=signed_on)
    case.save()
    for i, (party, obligation, due) in enumerate(rows):
        term = Term.objects.create(case=case, party=party, obligation=obligation, due_on=due, order=i)
        FollowUp.objects.create(case=case, term=term, due_on=due)
    default_day = signed_on + dt.timedelta(days=DEFAULT_FOLLOW_UP_DAYS)
    if not any(due == default_day for _p, _o, due in rows):
        FollowUp.objects.create(case=case, term=None, due_on=default_day)
    wo_actor, who = _wo_actor(actor, order)
    summary = _("Agreement reached (%(form)s), %(n)s terms.") % {"form": AgreementForm(form).label, "n": len(rows)}
    wo.handle(wo_actor, order, note=f"{summary}{who}")
    _changed(case)
    return case


@transaction.atomic
def record_follow_up(actor, follow_up, *, result: str, note: str = "", visited_on=None) -> FollowUp:
    """The result of a follow-up visit on performance."""
    fu = FollowUp.objects.select_related("case").filter(pk=getattr(follow_up, "pk", follow_up)).first()
    if fu is None:
        raise DomainError("not_found", _("Not found, or outside your area."), status=404)
    case = _lock(fu.case_id)
    _check(actor, case)
    fu = FollowUp.objects.select_for_update().get(pk=fu.pk)
    if result not in FollowUpResult.values:
        raise DomainError("result_invalid", _("Say whether the terms were performed, partly performed or not performed."), field="result")
    visited_on = _date(visited_on or _today(), "visited_on", _("the day of the visit"))
    _not_future(visited_on, "visited_on")
    if case.signed_on and visited_on < case.signed_on:
        raise DomainError("date_before_agreement", _("That date is before the agreement."), field="visited_on")
    note = (note or "").strip()[:2000]
    if result != FollowUpResult.PERFORMED and not note:
        raise DomainError("note_required", _("Say what is still outstanding."), field="note")
    fu.result = result
    fu.note = note
    fu.visited_on = visited_on
    fu.by = actor if actor is not None and actor.pk else None
    fu.save()
    _log(case, actor, "mediation_follow_up", note, {"follow_up": fu.pk, "result": result})
    _changed(case)
    return fu


# ---------------------------------------------------------------- court confirmation


@transaction.atomic
def apply_to_court(actor, case, *, applied_on, court: str) -> Case:
    """司法确认: the parties apply to a court within 30 days of the agreement (Art. 33)."""
    case = _lock(case)
    _check(actor, case)
    if not case.has_agreement:
        raise Conflict("no_agreement", _("Only an agreement can be confirmed by a court."))
    if case.court_applied_on and case.court_result != CourtResult.REFUSED:
        raise Conflict("court_applied", _("The court confirmation has already been applied for."))
    applied_on = _date(applied_on, "applied_on", _("the day of the application"))
    _not_future(applied_on, "applied_on")
    if applied_on < case.signed_on:
        raise DomainError("date_before_agreement", _("That date is before the agreement."), field="applied_on")
    if applied_on > case.signed_on + dt.timedelta(days=COURT_WINDOW_DAYS):
        raise DomainError(
            "court_window_passed",
            _("A court confirmation must be applied for within %(days)s days of the agreement (by %(last)s)."),
            field="applied_on",
            days=COURT_WINDOW_DAYS,
            last=(case.signed_on + dt.timedelta(days=COURT_WINDOW_DAYS)).isoformat(),
        )
    case.court_applied_on = applied_on
    case.court = _text(court, "court", _("the court"), 100)
    case.court_result = CourtResult.PENDING
    case.court_decided_on = None
    case.save()
    _log(case, actor, "mediation_court_applied", case.court, {"applied_on": applied_on.isoformat()})
    return case


@transaction.atomic
def record_court_result(actor, case, *, result: str, decided_on) -> Case:
    case = _lock(case)
    _check(actor, case)
    if not case.court_applied_on:
        raise Conflict("court_not_applied", _("No court confirmation has been applied for."))
    if case.court_result:
        raise Conflict("court_decided", _("The court has already decided."))
    if result not in (CourtResult.CONFIRMED, CourtResult.REFUSED):
        raise DomainError("result_invalid", _("Say whether the court confirmed or refused the agreement."), field="result")
    decided_on = _date(decided_on, "decided_on", _("the day of the decision"))
    _not_future(decided_on, "decided_on")
    if decided_on < case.court_applied_on:
        raise DomainError("date_before_application", _("That date is before the application."), field="decided_on")
    case.court_result = result
    case.court_decided_on = decided_on
    case.save()
    _log(case, actor, "mediation_court_result", CourtResult(result).label, {"result": result})
    return case


# ---------------------------------------------------------------- closing


@transaction.atomic
def close_case(actor, case, *, outcome: str | None = None, note: str = "") -> Case:
    """结案. A case with an agreement closes as agreed; one without closes as no agreement or
    withdrawn, with a reason (the order is reported handled first)."""
    case = _lock(case)
    if actor is not None and not access.cases(actor).filter(pk=case.pk).exists():
        raise DomainError("not_found", _("Not found, or outside your area."), status=404)
    _open_case(case)
    order = case.order
    note = (note or "").strip()[:2000]
    if case.has_agreement:
        outcome = Outcome.AGREEMENT
    else:
        if outcome not in (Outcome.NO_AGREEMENT, Outcome.WITHDRAWN):
            raise DomainError("outcome_invalid", _("Say how it ended: no agreement, or withdrawn."), field="outcome")
        if not note:
            raise DomainError("note_required", _("Say why the case ends without an agreement."), field="note")
        if actor is not None and not wo_access.is_dispatcher(actor, order):
            raise Forbidden("forbidden", _("Only the dispatchers of %(unit)s can do this."), unit=order.handler_region.name)
        if order.status == Status.REPORTED:
            wo.file(actor, order)
            order.refresh_from_db()
        if order.status == Status.FILED:
            raise Conflict("no_mediator", _("Choose a mediator first."))
        if order.status in (Status.DISPATCHED, Status.IN_PROGRESS):
            wo.handle(actor, order, note=f"{Outcome(outcome).label}: {note}")
            order.refresh_from_db()
    wo.close(actor, order, note=note)
    case.outcome = outcome
    case.save()
    _changed(case)
    return case
