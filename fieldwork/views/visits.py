"""Pages of visits: the grid worker's due list (the field home; staff above a grid read a grid's
list), the visit form, visit lists and a household's visit history.

Views parse, call fieldwork.services, render. Rows come through fieldwork.access, so an id
outside the user's area is a 404; any other refusal is shown at the form with nothing changed.
"""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.access import scope_paths
from linli.errors import DomainError
from linli.pages import page, raise_access
from regions.models import Region
from registry import access as registry_access
from registry.models import ResidentStatus

from .. import access, forms, services
from ..models import Period, Target, VisitKind
from ..services import dues, sync

PAGE = 50

PERIOD_WORDS = {
    Period.WEEK: gettext_lazy("this week"),
    Period.MONTH: gettext_lazy("this month"),
    Period.QUARTER: gettext_lazy("this quarter"),
}


# ------------------------------------------------------------------ due list


def _viewable_grid(user, value) -> Region | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return access.grid(user, pk)


def due_rows(entries, today, tags_by_household) -> list[dict]:
    """Plain dicts for the rows of one page of a due list, their texts prepared here: a page
    renders 50 rows, and per row an include or a blocktranslate costs more than its query."""
    from django.utils.translation import ngettext

    rows = []
    prefix = reverse("fieldwork:visit_new", args=[0])[:-2]
    periods = {k: str(v) for k, v in PERIOD_WORDS.items()}
    due_by, last_on, never, visit_label = _("due by %(day)s"), _("last visit %(day)s"), _("not visited yet"), _("Visit %(a)s")
    for e in entries:
        hh = e.household
        house = hh.house
        state = e.state(today)
        address = f"{house.building.label}{house.unit}单元{house.room}室"
        last = max((i.last_visit_on for i in e.items if i.last_visit_on), default=None)
        if state == "overdue":
            n = e.days_overdue(today)
            when = ngettext("overdue %(n)s day", "overdue %(n)s days", n) % {"n": n}
        elif state == "due":
            when = due_by % {"day": e.due_on.strftime("%m-%d")}
        else:
            when = ""
        rows.append({
            "pk": hh.pk,
            "address": address,
            "estate": house.building.estate,
            "head": hh.head.name if hh.head_id and hh.head else "",
            "state": state,
            "when": when,
            "rules": "、".join([i.rule.name for i in e.items if not i.is_done] or [e.items[0].rule.name]),
            # The chips and progress as ready HTML (escaped here): no inner loops per row.
            "chips": format_html_join("", '<span class="badge {}">{}</span>', [
                *(("care", t) for t in tags_by_household.get(hh.pk, [])),
                *((("key", "三必"),) if any(i.rule.must_visit for i in e.items) else ()),
            ]),
            "progress": format_html_join("", '<span class="fw-prog{}">{}</span>', [
                (" ok" if i.is_done else "", f"{i.done}/{i.required} {periods.get(i.rule.period, '')}") for i in e.items
            ]),
            "last": last_on % {"day": last.isoformat()} if last else never,
            "url": f"{prefix}{hh.pk}/",
            "aria": visit_label % {"a": address},
        })
    return rows


@page()
def due(request):
    """The grid worker's due list: overdue, due, done this period; most overdue and most
    vulnerable first. Staff above the grid pick one of their grids and read its list."""
    user = request.user
    today = timezone.localdate()
    own = access.worker_grid_ids(user)
    paths = scope_paths(user, access.DUE_LIST_READERS)
    if not own and not paths:
        raise PermissionDenied
    choices = access.due_list_choices(paths, own)
    grid = _viewable_grid(user, request.GET.get("grid")) if request.GET.get("grid") else None
    if grid is not None:
        grid_ids = [grid.pk]
    elif own:
        grid_ids = own
    else:
        grid_ids = [choices[0]["pk"]] if choices else []
    entries = dues.due_list(grid_ids, today) if grid_ids else []
    q = forms.text(request.GET, "q", 40)
    if q:
        entries = [
            e for e in entries
            if q in f"{e.household.house.building.estate}{e.household.house.building.label}{e.household.house.unit}单元{e.household.house.room}"
            or (e.household.head_id and e.household.head and q in e.household.head.name)
        ]
    counts = {"overdue": 0, "due": 0, "done": 0}
    for e in entries:
        counts[e.state(today)] += 1
    pager = Paginator(entries, PAGE)
    page_obj = pager.get_page(request.GET.get("page"))
    rows = due_rows(page_obj.object_list, today, access.household_tags([e.household.pk for e in page_obj.object_list]))
    grid_paths = [grid.path] if grid is not None else [c["path"] for c in choices if c["pk"] in grid_ids]
    read_only = not any(access.may_work_in(user, p) for p in grid_paths)
    if not own and not read_only and request.session.get(sync.BUNDLE_GRIDS) != grid_ids:
        # The phone of a community worker keeps the due list of the grid they work in now.
        request.session[sync.BUNDLE_GRIDS] = grid_ids
    return render(request, "fieldwork/due/list.html", {
        "today": today,
        "sections": [
            ("overdue", _("Overdue"), [r for r in rows if r["state"] == "overdue"]),
            ("due", _("To visit"), [r for r in rows if r["state"] == "due"]),
            ("done", _("Done this period"), [r for r in rows if r["state"] == "done"]),
        ],
        "counts": counts,
        "page_obj": page_obj,
        "choices": choices,
        "grid": grid,
        "grid_ids": grid_ids,
        "q": q,
        "read_only": read_only,
        "is_worker": bool(own),
        "query": _query(request, exclude="page"),
    })


def _query(request, exclude="page") -> str:
    g = request.GET.copy()
    g.pop(exclude, None)
    return g.urlencode()


# ------------------------------------------------------------------ visit form


def _visit_form_context(user, household, data=None, error=None):
    from workorders.forms import category_groups

    members = list(household.members.filter(status=ResidentStatus.ACTIVE).order_by("id"))
    if data is None:
        # The kind the household's current rules suggest: 三必 when a must-visit rule applies.
        rules = list(access.current_items(household).values_list("rule__must_visit", "rule__target"))
        kind = VisitKind.MUST if any(m for m, _t in rules) else VisitKind.CARE if any(t != Target.ALL for _m, t in rules) else VisitKind.ROUTINE
        data = {"kind": kind}
    met = set(data.getlist("met")) if hasattr(data, "getlist") else set()
    return {
        "household": household,
        "members": [{"pk": m.pk, "name": m.name, "relation": m.get_relation_display(), "checked": str(m.pk) in met} for m in members],
        "kinds": VisitKind.choices,
        "groups": category_groups(),
        "follow": access.follow_up_choices(user, household),
        "data": data,
        "error": error,
        "now": forms.local_input(),
        "due_url": reverse("fieldwork:due"),
    }


@page()
def visit_new(request, household_id):
    user = request.user
    household = access.household_to_visit(user, household_id)
    if request.method == "POST":
        try:
            visit = services.record_visit(user, household=household, **forms.visit_kwargs(request.POST, request.FILES.getlist("files")))
        except DomainError as e:
            raise_access(e)
            return render(request, "fieldwork/visits/form.html", _visit_form_context(user, household, request.POST, e))
        messages.success(request, _("Visit saved."))
        return redirect(reverse("fieldwork:visit_detail", args=[visit.pk]) + "?saved=1")
    return render(request, "fieldwork/visits/form.html", _visit_form_context(user, household))


# ------------------------------------------------------------------ visit lists


def visit_rows(qs) -> list[dict]:
    """Plain dicts for the rows of a visit list (`qs` read through access.listed)."""
    kinds = dict(VisitKind.choices)
    rows = []
    for v in qs:
        house = v.household.house
        rows.append({
            "pk": v.pk,
            "when": timezone.localtime(v.visited_at),
            "kind": kinds.get(v.kind, v.kind),
            "kind_code": v.kind,
            "address": f"{house.building.estate}{house.building.label}{house.unit}单元{house.room}室",
            "worker": str(v.worker),
            "grid": v.region.name,
            "nobody_home": v.nobody_home,
            "order": v.order_id,
            "notes": (v.findings or v.notes)[:80],
        })
    return rows


@page()
def visit_list(request):
    user = request.user
    paths = scope_paths(user)
    if not paths:
        raise PermissionDenied
    g = request.GET
    grid = _viewable_grid(user, g.get("grid")) if g.get("grid") else None
    worker_id = forms.text(g, "worker", 12)
    kind = g.get("kind") or ""
    qs = access.filter_visits(
        access.visits(user),
        within=grid.path if grid is not None else "",
        worker_id=int(worker_id) if worker_id.isdigit() else None,
        kind=kind if kind in VisitKind.values else "",
        since=_date(g.get("since")),
        until=_date(g.get("until")),
    )
    pager = Paginator(access.listed(qs).order_by("-visited_at", "-id"), PAGE)
    page_obj = pager.get_page(g.get("page"))
    return render(request, "fieldwork/visits/list.html", {
        "rows": visit_rows(page_obj.object_list),
        "page_obj": page_obj,
        "grids": access.grid_choices(paths),
        "grid": grid,
        "workers": access.grid_workers_in(paths),
        "worker": worker_id,
        "kinds": VisitKind.choices,
        "kind": kind,
        "since": g.get("since") or "",
        "until": g.get("until") or "",
        "query": _query(request),
    })


def _date(value):
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


@page()
def visit_detail(request, pk):
    user = request.user
    visit = access.visit(user, pk)
    met = list(visit.met.all())
    photos = list(visit.photos.all())
    follows_case = access.followed_case(visit)
    return render(request, "fieldwork/visits/detail.html", {
        "visit": visit,
        "met": met,
        "photos": photos,
        "follows_case": follows_case,
        "saved": request.GET.get("saved") == "1",
        "may_visit": access.may_work_in(user, visit.region_path),
    })


@page()
def household_visits(request, household_id):
    user = request.user
    household = registry_access.household(user, household_id)
    qs = access.listed(access.visits(user).filter(household=household)).order_by("-visited_at", "-id")
    pager = Paginator(qs, PAGE)
    page_obj = pager.get_page(request.GET.get("page"))
    items = list(access.current_items(household).select_related("rule"))
    return render(request, "fieldwork/visits/household.html", {
        "household": household,
        "rows": visit_rows(page_obj.object_list),
        "page_obj": page_obj,
        "items": [{"rule": i.rule.name, "done": i.done, "required": i.required, "period": PERIOD_WORDS.get(i.rule.period, ""), "due_on": i.due_on} for i in items],
        "may_visit": access.may_work_in(user, household.region_path) and household.dissolved_on is None,
    })
