"""An order's page: what it is, where, its progress, its timeline and files, and the steps the
user may take now (the lifecycle's table and the user's part in the order); a step posted from
it runs through the services; its attachments, served only to those who may see the order."""

import datetime as dt

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from linli.errors import Conflict, DomainError, NotFound
from linli.pages import raise_access

from .. import access, hooks, services
from ..forms import integer, text
from ..models import AttachmentRole, RequestKind, Status, WorkOrder, move, nothing_to_verify
from .display import order_page, progress, roles, status_text, step_labels, time_left


def _actions(user, order) -> dict:
    """The steps the page offers: those the lifecycle's table allows from the order's status,
    to the user's part in it (dispatcher, handler, verifier, reporter)."""
    dispatcher = access.is_dispatcher(user, order)
    handler = access.is_handler(user, order)
    verifier = access.is_verifier(user, order)
    reporter = access.is_reporter(user, order)
    reporter_window = (
        reporter and move(order, "confirm") is not None and order.closed_at is not None
        and timezone.now() - order.closed_at <= dt.timedelta(days=services.REOPEN_DAYS)
    )
    can = {
        "take": access.is_community_of(user, order) and move(order, "take") is not None,
        "file": dispatcher and move(order, "file") is not None,
        "void": dispatcher and move(order, "void") is not None,
        "duplicate": dispatcher and move(order, "duplicate") is not None,
        "dispatch": dispatcher and move(order, "dispatch") is not None,
        "start": handler and move(order, "start") is not None,
        "handle": handler and move(order, "handle") is not None,
        "more_time": handler and move(order, "request_more_time") is not None,
        "escalate": handler and not order.department and move(order, "escalate") is not None,
        # The page leaves verification out where there is nothing to verify on site.
        "verify": verifier and move(order, "verify") is not None and not nothing_to_verify(order),
        "close": dispatcher and move(order, "close") is not None,
        "resume": dispatcher and move(order, "resume") is not None,
        "confirm": reporter_window and not order.transitions.filter(action="confirm").exists(),
        "rate": reporter_window,
        "reopen": reporter_window,
    }
    if can["rate"]:
        can["rate"] = access.rating_of(order) is None
    can["any"] = any(can.values())
    return can


@order_page
def detail(request, pk):
    user = request.user
    order = access.order(user, pk)
    transitions = list(order.transitions.select_related("actor").prefetch_related("attachments"))
    labels = step_labels()
    for t in transitions:
        t.label = labels.get(t.action, t.action)
        t.from_label = status_text(t.from_status) if t.from_status else ""
        t.to_label = status_text(t.to_status)
    attachments = list(order.attachments.all())
    before = [a for a in attachments if a.role in (AttachmentRole.BEFORE, AttachmentRole.MATERIAL, AttachmentRole.OTHER)]
    after = [a for a in attachments if a.role == AttachmentRole.AFTER]
    can = _actions(user, order)
    order.status_text = status_text(order.status)
    pending = access.request_of(order)
    details = []
    by_code = {a.code: a for a in order.category.attributes.all()}
    for code, value in (order.attributes or {}).items():
        a = by_code.get(code)
        names = {str(v.get("key")): v.get("name") for v in (a.values if a else []) or []}
        shown = "、".join(names.get(str(v), str(v)) for v in value) if isinstance(value, list) else names.get(str(value), str(value))
        details.append({"question": a.description if a else code, "value": shown})
    ctx = {
        "order": order,
        "transitions": transitions,
        "before": before,
        "after": after,
        "can": can,
        "pending": pending,
        "can_decide": pending is not None and access.is_dispatcher(user, order),
        "attrs": details,
        "stage_left": time_left(order.due_at) if order.is_open and order.status != Status.SUSPENDED else None,
        "deadline_left": time_left(order.deadline) if order.is_open and order.status != Status.SUSPENDED else None,
        "progress": progress(order),
        "candidates": access.candidates(order) if can["dispatch"] else [],
        "departments": access.departments_near([order.region_path]) if can["dispatch"] or can["escalate"] else [],
        "rating": access.rating_of(order),
        "point": {"lat": order.lat, "lng": order.lng} if order.lat is not None and order.lng is not None else None,
        "area": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": order.region.name}, "geometry": order.region.boundary}
        ]} if order.region.boundary else None,
        "request_kinds": RequestKind.choices,
        "reporter_sees_only": access.is_reporter(user, order) and not (roles(user) & access.STAFF_ROLES),
        "record_links": hooks.record_links(order),
    }
    return render(request, "workorders/detail.html", ctx)


def _act(user, order, action, post, files):
    """Run one step through the services; returns the success message."""
    version = integer(post.get("version"))
    note = text(post, "note")
    if action == "take":
        services.take(user, order, note=note, version=version)
        return _("Taken on: it is at your community's desk now.")
    if action == "file":
        services.file(user, order, note=note, urgent=bool(post.get("urgent")) if "urgent_set" in post else None, version=version)
        return _("Filed.")
    if action == "void":
        services.void(user, order, note=note, version=version)
        return _("Voided.")
    if action == "duplicate":
        of = WorkOrder.pk_from_number(text(post, "of", 20)) or integer(post.get("of"))
        services.mark_duplicate(user, order, of=of, note=note, version=version)
        return _("Marked as a duplicate.")
    if action == "dispatch":
        assignee = None
        if integer(post.get("assignee")):
            assignee = User.objects.filter(pk=integer(post.get("assignee")), is_active=True).first()
        services.dispatch(user, order, assignee=assignee, department=text(post, "department", 100) if assignee is None else "", note=note, version=version)
        return _("Dispatched.")
    if action == "start":
        services.start(user, order, note=note, version=version)
        return _("Started.")
    if action == "handle":
        services.handle(user, order, note=note, files=files.getlist("files"), version=version)
        return _("Reported as handled; it now waits for verification.")
    if action == "verify":
        passed = post.get("passed") == "1"
        services.verify(user, order, passed=passed, note=note, files=files.getlist("files"), version=version)
        return _("Verified.") if passed else _("Sent back for rework.")
    if action == "close":
        services.close(user, order, note=note, version=version)
        return _("Closed.")
    if action == "more_time":
        services.request_more_time(user, order, kind=post.get("kind", ""), reason=text(post, "reason"), hours=post.get("hours") or None, version=version)
        return _("Your request was sent to the dispatcher.")
    if action == "decide":
        request_id = integer(post.get("request"))
        req = access.request_of(order, request_id) if request_id is not None else None
        if req is None:
            raise NotFound("not_found", access.NOT_FOUND)
        approve = post.get("approve") == "1"
        services.decide(user, req, approve=approve, note=note)
        return _("Approved.") if approve else _("Refused.")
    if action == "resume":
        services.resume(user, order, note=note, version=version)
        return _("Resumed.")
    if action == "escalate":
        services.escalate(user, order, note=note, department=text(post, "department", 100), version=version)
        return _("Escalated.")
    if action == "confirm":
        services.confirm(user, order, note=note)
        return _("Thank you for confirming.")
    if action == "rate":
        services.rate(user, order, score=post.get("score"), comment=text(post, "comment", 1000))
        return _("Thank you for your rating.")
    if action == "reopen":
        services.reopen(user, order, reason=text(post, "reason"))
        return _("Reopened; it goes back to the desk.")
    raise Http404


@order_page
@require_POST
def act(request, pk, action):
    user = request.user
    order = access.order(user, pk)
    try:
        msg = _act(user, order, action, request.POST, request.FILES)
    except Conflict as e:
        messages.error(request, e.text(), extra_tags="conflict")
    except DomainError as e:
        raise_access(e)
        messages.error(request, e.text())
    else:
        messages.success(request, msg)
    nxt = request.POST.get("next") or ""
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect("workorders:detail", order.pk)


@order_page
@require_GET
def attachment(request, pk, att, kind="file"):
    """An attachment of an order the user may see (never a bare media URL)."""
    order = access.order(request.user, pk)
    a = access.attachment_of(order, att)
    if a is None:
        raise Http404
    f = a.thumbnail if kind == "thumb" and a.thumbnail else a.file
    try:
        handle = f.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404
    response = FileResponse(handle, content_type="image/jpeg" if f is a.thumbnail else a.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
