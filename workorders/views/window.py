"""The one-window desk pages (一窗受理): pick a service item, check the applicant's materials,
accept or give a one-time notice (printable), then process and finish.

Applications come through access.py (an id outside the user's area is a 404); every step goes
through workorders/services/window.py."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.access import assignments
from accounts.models import Role, User
from linli.errors import DomainError, NotFound
from linli.pages import page, raise_access
from registry import access as registry_access
from registry.access import search as people_search

from .. import access
from ..forms import ApplicationForm
from ..models import ACTION_MISSING, ENDED_STATUSES, Status
from ..services import window

TODAY_LIMIT = 100


window_page = page("workorders.window")


# ------------------------------------------------------------------ the desk


@window_page
def desk(request):
    user = request.user
    items = list(access.service_items())
    groups, current = [], None
    for c in items:
        if current is None or current["group"] != c.parent:
            current = {"group": c.parent, "items": []}
            groups.append(current)
        current["items"].append(c)
    lists = access.window_lists(user, TODAY_LIMIT)
    now = timezone.now()
    for o in lists["in_hand"]:
        o.late = o.deadline is not None and o.deadline < now
    return render(request, "workorders/window/desk.html", {"groups": groups, "n_items": len(items), **lists})


# ------------------------------------------------------------------ a new application


@window_page
def new_application(request, code):
    user = request.user
    try:
        category = access.service_item(code)
    except DomainError:
        raise Http404
    form = ApplicationForm(request.POST or None, category=category, user=user)
    picked = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["resident"]:
                picked = registry_access.resident(user, data["resident"])
            order = window.apply(
                user,
                category=category,
                resident=picked,
                region=form.places.get(data["region"]),
                applicant_name=data["applicant_name"],
                applicant_phone=data["applicant_phone"],
                attributes=form.attributes(),
                received=data["received"],
                extra_missing=[line for line in data["other_missing"].splitlines() if line.strip()],
                note=data["note"],
            )
        except NotFound:
            form.add_error(None, _("That resident is not in your area."))
        except DomainError as e:
            raise_access(e)
            form.apply_error(e)
        else:
            if order.status == Status.REPORTED:
                messages.warning(request, _("A one-time notice lists what is missing; print it for the applicant."))
                return redirect("workorders:window_slip", order.pk)
            messages.success(request, _("Application %(number)s accepted; it is due by %(due)s.") % {
                "number": order.number, "due": timezone.localtime(order.deadline).strftime("%Y-%m-%d %H:%M") if order.deadline else "—"})
            return redirect("workorders:window_application", order.pk)
    elif request.method == "POST" and request.POST.get("resident"):
        picked = registry_access.residents(user).filter(pk=request.POST.get("resident")).first()
    return render(request, "workorders/window/new.html", {"category": category, "form": form, "picked": picked},
                  status=400 if form.errors else 200)


@window_page
def resident_search(request):
    """htmx: residents of the user's area matching a name, pinyin, ID number or phone."""
    q = (request.GET.get("who") or "").strip()
    rows = []
    if q:
        rows = people_search.search_residents(request.user, q, limit=8).rows
    return render(request, "workorders/window/_residents.html", {"rows": rows, "q": q})


# ------------------------------------------------------------------ one application


@window_page
def application(request, pk):
    user = request.user
    order = access.application(user, pk)
    steps = list(order.transitions.select_related("actor").order_by("at", "id"))
    notice = next((t for t in reversed(steps) if t.action == ACTION_MISSING), None)
    handed = []
    if notice is not None:
        handed = notice.data.get("received", [])
    received_at_accept = next((t.data.get("received") for t in reversed(steps) if t.action == "file" and t.data.get("received")), None)
    may_act = access.is_dispatcher(user, order)
    details = []
    for a in order.category.attributes.order_by("order", "id"):
        if a.code in (order.attributes or {}):
            value = order.attributes[a.code]
            names = {str(v.get("key")): v.get("name") for v in a.values or []}
            shown = "、".join(names.get(str(v), str(v)) for v in value) if isinstance(value, list) else names.get(str(value), str(value))
            details.append((a.description, shown))
    return render(request, "workorders/window/application.html", {
        "order": order, "steps": steps, "notice": notice, "handed": handed, "received": received_at_accept,
        "materials": order.category.materials or [], "may_act": may_act,
        "people": access.colleagues(order) if may_act and order.status == Status.FILED else [],
        "ended": order.status in ENDED_STATUSES, "labels": dict(ACTIONS), "details": details,
        "may_finish": may_act and order.status in (Status.FILED, Status.DISPATCHED, Status.IN_PROGRESS, Status.HANDLED),
    })


ACTIONS = [
    ("report", gettext_lazy("Application taken")),
    (ACTION_MISSING, gettext_lazy("One-time notice of missing materials")),
    ("file", gettext_lazy("Accepted")),
    ("dispatch", gettext_lazy("Given to a handler")),
    ("start", gettext_lazy("Taken in hand")),
    ("handle", gettext_lazy("Done")),
    ("close", gettext_lazy("Finished")),
    ("void", gettext_lazy("Voided")),
    ("supervise", gettext_lazy("Overdue notice (督办)")),
]


def _act(request, pk, fn, success):
    order = access.application(request.user, pk)
    try:
        fn(order)
    except DomainError as e:
        raise_access(e)
        messages.error(request, e.text())
    else:
        messages.success(request, success)
    return redirect("workorders:window_application", order.pk)


@window_page
@require_POST
def accept(request, pk):
    received = request.POST.getlist("received")
    return _act(request, pk, lambda o: window.accept(request.user, o, received, note=request.POST.get("note", ""),
                                                    version=request.POST.get("version") or None),
                _("Materials complete; the application is accepted."))


@window_page
@require_POST
def notice(request, pk):
    """A further notice, when the applicant comes back still without everything."""
    order = access.application(request.user, pk)
    received = request.POST.getlist("received")
    missing = [m for m in order.category.materials or [] if m not in received]
    missing += [line.strip() for line in request.POST.get("other_missing", "").splitlines() if line.strip()]
    try:
        window.notify_missing(request.user, order, missing, request.POST.get("note", ""), received=received,
                              version=request.POST.get("version") or None)
    except DomainError as e:
        raise_access(e)
        messages.error(request, e.text())
        return redirect("workorders:window_application", order.pk)
    return redirect("workorders:window_slip", order.pk)


@window_page
@require_POST
def process(request, pk):
    assignee = None
    if request.POST.get("assignee"):
        assignee = User.objects.filter(pk=request.POST.get("assignee"), is_active=True).first()
        if assignee is None:
            messages.error(request, _("Choose a colleague from the list."))
            return redirect("workorders:window_application", pk)
    return _act(request, pk, lambda o: window.process(request.user, o, assignee=assignee, note=request.POST.get("note", ""),
                                                     version=request.POST.get("version") or None),
                _("The application is in hand."))


@window_page
@require_POST
def finish(request, pk):
    return _act(request, pk, lambda o: window.finish(request.user, o, note=request.POST.get("note", ""),
                                                    version=request.POST.get("version") or None),
                _("The application is finished and closed."))


@window_page
def slip(request, pk):
    """The printable one-time notice (一次性告知书)."""
    order = access.application(request.user, pk)
    notice = access.last_notice(order)
    if notice is None:
        raise Http404
    place = order.handler_region
    return render(request, "workorders/window/slip.html", {
        "order": order, "notice": notice, "missing": notice.data.get("missing", []), "received": notice.data.get("received", []),
        "place": place, "clerk": notice.actor, "clerk_role": _role_name(notice.actor),
    })


def _role_name(user) -> str:
    if user is None:
        return ""
    for role, _p, _i in assignments(user):
        return Role(role).label
    return ""

