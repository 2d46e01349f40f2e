"""What several work-order pages show: a status in words, the time left, the resident's progress
bar, the timeline's step names and a desk's rows."""

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import assignments
from linli.pages import page

from .. import access, hooks
from ..models import OPEN_STATUSES, Status, WorkOrder

PAGE = 50

# Login required; NotFound → 404, Forbidden → 403.
order_page = page()

# The resident's progress bar: the steps of the closed loop in order.
PROGRESS = [Status.REPORTED, Status.FILED, Status.DISPATCHED, Status.IN_PROGRESS, Status.HANDLED, Status.VERIFIED, Status.CLOSED]

# The timeline's name of each step (Transition.action).
STEP_LABELS = {
    "report": gettext_lazy("Reported"),
    "settle_on_spot": gettext_lazy("Settled on the spot"),
    "assign_down": gettext_lazy("Assigned from above"),
    "file": gettext_lazy("Filed"),
    "take": gettext_lazy("Taken on by the community"),
    "void": gettext_lazy("Voided"),
    "duplicate": gettext_lazy("Marked as a duplicate"),
    "dispatch": gettext_lazy("Dispatched"),
    "start": gettext_lazy("Started"),
    "handle": gettext_lazy("Reported as handled"),
    "verify": gettext_lazy("Passed verification"),
    "rework": gettext_lazy("Failed verification (rework)"),
    "close": gettext_lazy("Case closed"),
    "request_extension": gettext_lazy("Asked for an extension"),
    "request_suspension": gettext_lazy("Asked for a suspension"),
    "approve_extension": gettext_lazy("Extension approved"),
    "refuse_extension": gettext_lazy("Extension refused"),
    "approve_suspension": gettext_lazy("Suspension approved"),
    "refuse_suspension": gettext_lazy("Suspension refused"),
    "resume": gettext_lazy("Resumed"),
    "escalate": gettext_lazy("Escalated"),
    "supervise": gettext_lazy("Supervision notice (overdue)"),
    "confirm": gettext_lazy("Confirmed by the reporter"),
    "rate": gettext_lazy("Rated by the reporter"),
    "reopen": gettext_lazy("Reopened by the reporter"),
}


def step_labels() -> dict:
    """STEP_LABELS and the names of the steps other apps record on orders (workorders.hooks)."""
    return {**STEP_LABELS, **hooks.timeline_labels()}


# "Closed" is already 已撤销 (a closed place) in the shared catalogue; a closed case is 已结案.
STATUS_TEXT = {Status.CLOSED: gettext_lazy("Case closed")}


def status_text(status: str) -> str:
    return str(STATUS_TEXT.get(status) or (Status(status).label if status in Status.values else status))


def roles(user) -> set[str]:
    return {r for r, _p, _i in assignments(user)}


def area_paths(user, roles_) -> list[str]:
    """The areas where the user holds one of the roles; a desk of none of them is forbidden."""
    paths = access.desk_paths(user, roles_)
    if not paths:
        raise PermissionDenied
    return paths


def _time_texts() -> dict[str, str]:
    """time_left's phrases in the active language (a desk looks them up once, not per row)."""
    return {
        "dh": _("%(d)s d %(h)s h"), "hm": _("%(h)s h %(m)s min"), "m": _("%(m)s min"),
        "overdue": _("overdue by %(span)s"), "left": _("%(span)s left"),
    }


def time_left(due, now=None, texts=None) -> dict | None:
    """{'text', 'overdue'} for a deadline: how long is left, or how long it is overdue."""
    if due is None:
        return None
    now = now or timezone.now()
    texts = texts or _time_texts()
    seconds = int((due - now).total_seconds())
    overdue = seconds < 0
    s = abs(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        span = texts["dh"] % {"d": days, "h": hours}
    elif hours:
        span = texts["hm"] % {"h": hours, "m": minutes}
    else:
        span = texts["m"] % {"m": max(1, minutes)}
    return {"text": texts["overdue" if overdue else "left"] % {"span": span}, "overdue": overdue}


def rows_shown(orders, now=None) -> list[dict]:
    """What each row of a desk shows, prepared here as plain dicts from access.desk_values(): a
    desk renders 50 rows, and a url tag, an include or a dotted lookup on a model per row (each a
    failed dict lookup, then getattr) would cost more than the page's query."""
    now = now or timezone.now()
    prefix = reverse("workorders:detail", args=[0])[:-2]  # ".../workorders/" before the id
    statuses = {s: status_text(s) for s in Status.values}
    sources = {k: str(v) for k, v in WorkOrder._meta.get_field("source").choices}
    texts = _time_texts()
    rows = []
    for o in orders:
        pk, status = o["id"], o["status"]
        left = time_left(o["due_at"], now, texts) if status in OPEN_STATUSES and status != Status.SUSPENDED else None
        if o["assignee_id"]:
            handler = o["assignee__display_name"] or o["assignee__username"]  # as str(User)
        else:
            handler = o["department"] or o["handler_region__name"]
        rows.append({
            "pk": pk,
            "url": f"{prefix}{pk}/",
            "number": WorkOrder.format_number(pk, o["reported_at"]),
            "title": o["title"],
            "urgent": o["priority"] == "urgent",
            "category": o["category__name"],
            "source": sources.get(o["source"], o["source"]),
            "status": status,
            "status_text": statuses.get(status, status),
            "filed": status == Status.FILED,
            "region": o["region__name"],
            "address": o["address"],
            "handler": handler,
            "left": left["text"] if left else "",
            "overdue": bool(left and left["overdue"]),
        })
    return rows


def progress(order) -> dict:
    if order.status in PROGRESS:
        i = PROGRESS.index(order.status)
    elif order.status == Status.SUSPENDED:
        i = PROGRESS.index(order.suspended_status) if order.suspended_status in PROGRESS else 3
    else:
        i = len(PROGRESS) - 1
    return {
        "percent": round(100 * (i + 1) / len(PROGRESS)),
        "steps": [{"label": status_text(s), "done": j <= i, "current": j == i} for j, s in enumerate(PROGRESS)],
    }
