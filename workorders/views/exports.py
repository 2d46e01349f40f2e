"""Work orders out to Excel: a desk as filtered (the board, the inbox, the overdue board, my
tasks) and the problem ledger (问题台账) with the page that asks for its place and period."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Role

from .. import access, exports
from .desks import BoardFilter, department_paths
from .display import area_paths, order_page, roles


@order_page
@require_GET
def export(request, which):
    user = request.user
    if which == "board":
        paths = area_paths(user, access.DISPATCH_ROLES)
        qs = access.board(paths, BoardFilter(request, paths))
        name = _("Dispatch board")
    elif which == "inbox":
        paths = department_paths(user)
        qs = access.inbox(user, BoardFilter(request, paths))
        name = _("Department inbox")
    elif which == "overdue":
        qs = access.overdue(area_paths(user, access.DISPATCH_ROLES))
        name = _("Overdue work orders")
    elif which == "tasks":
        if not (roles(user) & access.AREA_ROLES):
            raise PermissionDenied
        qs = access.tasks_sheet(user)
        name = _("My tasks")
    elif which == "ledger":
        area_paths(user, access.AREA_ROLES | {Role.DEPARTMENT_HANDLER})
        start, end = exports.period(request.GET.get("from"), request.GET.get("to"))
        place = access.place(user, request.GET["place"]) if request.GET.get("place") else None
        qs = access.ledger(user, start, end, place)
        name = _("Problem ledger")
    else:
        raise Http404
    return exports.response(qs, name, ledger=(which == "ledger"))


@order_page
def ledger(request):
    """The problem ledger (问题台账): choose the place and the period, then download."""
    paths = area_paths(request.user, access.AREA_ROLES | {Role.DEPARTMENT_HANDLER})
    today = timezone.localdate()
    return render(request, "workorders/ledger.html", {
        "places": access.places_below(paths),
        "start": today.replace(day=1).isoformat(),
        "end": today.isoformat(),
    })
