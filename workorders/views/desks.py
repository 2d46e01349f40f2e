"""The desks: the way in, a resident's reports, a grid worker's tasks, the dispatch board (with
dispatching several orders at once), a department's inbox and the overdue board. Lists are
keyset pages (linli.paging)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role, User
from linli.errors import DomainError
from linli.paging import keyset
from regions.models import Level

from .. import access, services
from ..forms import BOARD_STATUSES, category_groups, integer, text
from ..models import Kind, Status
from .display import PAGE, area_paths, order_page, progress, roles, rows_shown, status_text, time_left


@order_page
def index(request):
    """The desk that fits the user's widest role."""
    held = roles(request.user)
    if held & access.DISPATCH_ROLES:
        return redirect("workorders:board")
    if Role.GRID_WORKER in held:
        return redirect("workorders:tasks")
    if Role.DEPARTMENT_HANDLER in held:
        return redirect("workorders:inbox")
    return redirect("workorders:mine")


# ------------------------------------------------------------------ my reports (resident)


@order_page
def mine(request):
    page = keyset(access.reported_by(request.user), after=integer(request.GET.get("before")), limit=PAGE, order=("-id",))
    prefix = reverse("workorders:detail", args=[0])[:-2]
    rows = [{
        "url": f"{prefix}{o.pk}/",
        "title": o.title,
        "number": o.number,
        "category": o.category.name,
        "reported": timezone.localtime(o.reported_at).strftime("%Y-%m-%d %H:%M"),
        "ended": o.status in (Status.VOIDED, Status.DUPLICATE),
        "closed": o.status == Status.CLOSED,
        "status_text": status_text(o.status),
        "percent": progress(o)["percent"],
    } for o in page]
    return render(request, "workorders/mine.html", {"orders": rows, "more": page.next_after})


# ------------------------------------------------------------------ grid worker: my tasks


@order_page
def tasks(request):
    user = request.user
    if not (roles(user) & access.AREA_ROLES):
        raise PermissionDenied
    now = timezone.now()
    assigned, desk, verify = (rows_shown(access.desk_values(qs[:PAGE]), now) for qs in access.tasks(user))
    return render(request, "workorders/tasks.html", {
        "assigned": assigned,
        "desk": desk,
        "verify": verify,
        "assigned_html": _list_rows_html(assigned, _("Nothing given to you now.")),
        "desk_html": _list_rows_html(desk, _("The desk is clear.")),
        "verify_html": _list_rows_html(verify, _("Nothing waits for verification.")),
        "is_grid": Role.GRID_WORKER in roles(user),
    })


# ------------------------------------------------------------------ dispatch board


class BoardFilter(access.DeskFilter):
    """A desk's filter as the page's query string gives it (a place outside the area: 404)."""

    def __init__(self, request, paths):
        query = request.GET
        status = query.get("status") or "open"
        if status not in {k for k, _l in BOARD_STATUSES}:
            status = "open"
        place = access.place(request.user, query.get("place")) if query.get("place") else None
        super().__init__(status=status, category=integer(query.get("category")), overdue=query.get("overdue") == "1",
                         place=place, q=(query.get("q") or "").strip()[:100])
        self.paths = paths

    def params(self, **extra) -> str:
        p = {"status": self.status, "category": self.category or "", "overdue": "1" if self.overdue else "", "q": self.q,
             "place": self.place.pk if self.place else ""}
        p.update(extra)
        return urlencode({k: v for k, v in p.items() if v not in ("", None)})


def _page(qs, request):
    """One page of a desk queryset (newest first) as access.desk_values() rows, and the id to go on from."""
    page = keyset(qs, after=integer(request.GET.get("before")), limit=PAGE, order=("-id",), read=access.desk_values)
    return page.items, page.next_after


def _urgent_badge() -> str:
    word = _("Urgent")
    return f' <span class="badge urgent">{escape(word)}</span>'


def _board_rows_html(rows: list[dict], bulk: bool) -> str:
    """The board's table rows as HTML, from rows_shown() dicts (the markup of board.html's
    table). Built here rather than in a template loop: the loop's ~20 lookups, conditions and
    escapes per row, 50 rows a page, cost more than everything else the page does."""
    urgent = _urgent_badge()
    select = escape(_("Select"))
    out = []
    for o in rows:
        number, url = escape(o["number"]), o["url"]
        tr = '<tr class="is-overdue">' if o["overdue"] else "<tr>"
        tick = ""
        if bulk:
            box = f'<input type="checkbox" name="ids" value="{o["pk"]}" aria-label="{select} {number}">' if o["filed"] else ""
            tick = f"<td>{box}</td>"
        badge = urgent if o["urgent"] else ""
        address = f'<br class="wide-only"><span class="muted small"> {escape(o["address"])}</span>' if o["address"] else ""
        late = "late" if o["overdue"] else ""
        left = f'<span class="{late}">{escape(o["left"])}</span>' if o["left"] else "—"
        out.append(
            f"{tr}\n      {tick}\n"
            f'      <td class="mono nowrap"><a href="{url}">{number}</a></td>\n'
            f'      <td><a href="{url}">{escape(o["title"])}</a>{badge}'
            f'<br><span class="muted small">{escape(o["category"])} · {escape(o["source"])}</span></td>\n'
            f'      <td class="c-inline"><span class="badge st-{escape(o["status"])}">{escape(o["status_text"])}</span></td>\n'
            f'      <td class="c-inline">{escape(o["region"])}{address}</td>\n'
            f'      <td class="c-inline">{escape(o["handler"])}</td>\n'
            f'      <td class="c-inline nowrap">{left}</td>\n'
            "    </tr>"
        )
    return mark_safe("".join(out))


def _list_rows_html(rows: list[dict], empty: str) -> str:
    """A desk list's items as HTML, from rows_shown() dicts (my tasks, the overdue board), or the
    `empty` line when there are none; built here for the same reason as the board's rows."""
    if not rows:
        return mark_safe(f'<li class="muted">{escape(empty)}</li>')
    urgent = _urgent_badge()
    out = []
    for o in rows:
        late = " is-overdue" if o["overdue"] else ""
        badge = urgent if o["urgent"] else ""
        address = f' · {escape(o["address"])}' if o["address"] else ""
        left = ""
        if o["left"]:
            left = f'<span class="row-meta due{" late" if o["overdue"] else ""}">{escape(o["left"])}</span>'
        out.append(
            f'<li class="wo-row{late}"><a href="{o["url"]}">\n'
            f'  <span class="row-main">{escape(o["title"])} <span class="badge st-{escape(o["status"])}">{escape(o["status_text"])}</span>{badge}</span>\n'
            f'  <span class="row-meta"><span class="mono">{escape(o["number"])}</span> · {escape(o["category"])} · {escape(o["region"])}{address}</span>\n'
            f"  {left}\n"
            "</a></li>\n"
        )
    return mark_safe("".join(out))


def _option(value, label, selected=False, indent=False) -> str:
    return f'<option value="{escape(value)}"{" selected" if selected else ""}>{"　" if indent else ""}{escape(label)}</option>'


def _filter_options(board_filter: BoardFilter, groups, places) -> dict:
    """The board's <option> lists as ready HTML: a street's board offers ~200 options (categories,
    places, people), and a template loop spends more on them than on the 50 rows."""
    place = board_filter.place.pk if board_filter.place else None
    return {
        "category_options": mark_safe("".join(
            f'<optgroup label="{escape(label)}">' + "".join(_option(c["pk"], c["name"], board_filter.category == c["pk"]) for c in cats) + "</optgroup>"
            for label, cats in groups
        )),
        "place_options": mark_safe("".join(_option(r["pk"], r["name"], place == r["pk"], r["level"] == Level.GRID) for r in places)),
    }


@order_page
def board(request):
    user = request.user
    paths = area_paths(user, access.DISPATCH_ROLES)
    board_filter = BoardFilter(request, paths)
    rows, more = _page(access.board(paths, board_filter), request)
    rows = rows_shown(rows)
    ctx = {
        "f": board_filter,
        "rows": rows,
        "rows_html": _board_rows_html(rows, bulk=True),
        "more": more,
        "statuses": BOARD_STATUSES,
        **_filter_options(board_filter, category_groups(kinds=list(Kind.values)), access.places_below(paths)),
        "assignee_options": mark_safe("".join(
            _option(a["id"], a["label"]) for a in access.assignee_choices([board_filter.place.path] if board_filter.place else paths)
        )),
        "department_options": mark_safe("".join(_option(d, d) for d in access.departments_near(paths))),
        "export_url": reverse("workorders:export", args=["board"]) + "?" + board_filter.params(),
        "title": _("Dispatch board"),
        "board": "board",
        "bulk": True,
    }
    return render(request, "workorders/board.html", ctx)


def department_paths(user) -> list[str]:
    """The areas of the user's department roles; the inbox of no department is forbidden."""
    areas = access.department_areas(user)
    if not any(d for d, _p in areas):
        raise PermissionDenied
    return [p for _d, p in areas]


@order_page
def inbox(request):
    user = request.user
    paths = department_paths(user)
    board_filter = BoardFilter(request, paths)
    rows, more = _page(access.inbox(user, board_filter), request)
    rows = rows_shown(rows)
    return render(request, "workorders/board.html", {
        "f": board_filter,
        "rows": rows,
        "rows_html": _board_rows_html(rows, bulk=False),
        "more": more,
        "statuses": BOARD_STATUSES,
        **_filter_options(board_filter, category_groups(kinds=list(Kind.values)), access.places_below(paths)),
        "export_url": reverse("workorders:export", args=["inbox"]) + "?" + board_filter.params(),
        "title": _("Department inbox"),
        "board": "inbox",
        "bulk": False,
    })


@order_page
@require_POST
def bulk_dispatch(request):
    """Several filed orders to one assignee; each in its own service call, so one refusal does
    not stop the others. The page then says, order by order, what happened."""
    user = request.user
    paths = area_paths(user, access.DISPATCH_ROLES)
    ids = [i for i in (integer(v) for v in request.POST.getlist("ids")) if i][:200]
    assignee = None
    department = text(request.POST, "department", 100)
    assignee_id = integer(request.POST.get("assignee"))
    if assignee_id:
        assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
    results = []
    if not ids:
        messages.error(request, _("Tick the work orders to dispatch."))
        return redirect(reverse("workorders:board") + "?" + request.POST.get("back", ""))
    if assignee is None and not department:
        messages.error(request, _("Choose who handles them: a person or a department."))
        return redirect(reverse("workorders:board") + "?" + request.POST.get("back", ""))
    visible = {o.pk: o for o in access.on_desks(paths).filter(pk__in=ids)}
    note = text(request.POST, "note")
    for pk in ids:
        order = visible.get(pk)
        if order is None:
            results.append({"number": str(pk), "ok": False, "message": _("Not found, or outside your area.")})
            continue
        try:
            services.dispatch(user, order, assignee=assignee, department=department if assignee is None else "", note=note)
        except DomainError as e:
            results.append({"order": order, "number": order.number, "ok": False, "message": e.text()})
        else:
            results.append({"order": order, "number": order.number, "ok": True, "message": _("Dispatched")})
    done = sum(1 for r in results if r["ok"])
    return render(request, "workorders/bulk_result.html", {
        "results": results, "done": done, "failed": len(results) - done,
        "assignee": assignee, "department": department, "back": request.POST.get("back", ""),
    })


# ------------------------------------------------------------------ overdue board (supervisors)


@order_page
def overdue(request):
    paths = area_paths(request.user, access.DISPATCH_ROLES)
    now = timezone.now()
    page = keyset(
        access.overdue(paths), after=integer(request.GET.get("after")), limit=PAGE, order=("due_at", "id"),
        read=lambda qs: access.desk_values(qs, ids_first=True),
    )
    notices = access.open_notices(paths)
    for n in notices:
        n.left = time_left(n.due_at, now)
    rows = rows_shown(page.items, now)
    return render(request, "workorders/overdue.html", {
        "rows": rows,
        "rows_html": _list_rows_html(rows, _("Nothing is overdue.")),
        "more": page.next_after,
        "notices": notices,
        "export_url": reverse("workorders:export", args=["overdue"]),
    })
