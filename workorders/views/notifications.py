"""The user's notifications (the bell): a keyset page, newest first; marking them read; opening
one goes to its order."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.paging import keyset

from .. import access
from ..forms import integer
from ..services import notify
from .display import PAGE, order_page


@order_page
def notifications(request):
    user = request.user
    if request.method == "POST":
        ids = [i for i in (integer(v) for v in request.POST.getlist("ids")) if i]
        n = notify.mark_read(user, ids or None)
        messages.success(request, _("%(n)s marked as read.") % {"n": n})
        return redirect("workorders:notifications")
    only_unread = request.GET.get("unread") == "1"
    notices = access.notifications(user, unread=only_unread).select_related("order")
    page = keyset(notices, after=integer(request.GET.get("before")), limit=PAGE, order=("-at", "-id"))
    return render(request, "workorders/notifications.html", {
        "rows": page.items,
        "more": page.next_after,
        "unread": access.unread_count(user),
        "only_unread": only_unread,
    })


@order_page
@require_POST
def notification_open(request, pk):
    """Open one notification: mark it read and go to its order."""
    n = access.notification(request.user, pk)
    if n is None:
        raise Http404
    notify.mark_read(request.user, [n.pk])
    if n.order_id:
        return redirect("workorders:detail", n.order_id)
    return redirect("workorders:notifications")
