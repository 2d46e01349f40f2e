"""Which field-work rows a user sees and works on, and the field-work rows kept per process (the
visit rules, the cities' boxes for patrols' points).

- Staff with an area (city down to grid) see the visits, patrols, due items and figures of
  their area (accounts.access scope).
- A grid worker works on the households of the grids they are assigned to: they visit them,
  patrol them and see their due list. A community worker may also record visits in their
  community (they visit too); nobody records a visit outside their own area.
- Residents see only the public grid notice and their own evaluation form.
- Visit and patrol rules are the city's policy, not rows of an area: whoever may read the
  configuration (rules.py) reads them all.

Every queryset the pages and the API read is built here; an id outside the user's area is
NotFound (a 404), never a hint that the row exists.
"""

import datetime as dt

from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import assignments, get_scoped, scope_paths, scoped
from accounts.models import Role, User
from linli.db import prefix_q
from linli.errors import Forbidden, NotFound
from linli.snapshot import Snapshot
from regions.models import Level, Region
from registry.models import CareTag, TagCategory

from .models import DueItem, GridProfile, Patrol, PatrolRule, PatrolStatus, Target, Visit, VisitRule

FIELD_ROLES = {Role.GRID_WORKER, Role.COMMUNITY_WORKER}
# Staff above a grid who open a grid's due list (a street officer reads it to a community).
DUE_LIST_READERS = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_OFFICER, Role.COMMUNITY_WORKER}


# ---------------------------------------------------------------- who works where


def worker_grid_ids(user) -> list[int]:
    """The grids the user is assigned to as a grid worker."""
    return sorted({region_id for role, _p, region_id in assignments(user) if role == Role.GRID_WORKER})


def worker_grids(user) -> list[Region]:
    ids = worker_grid_ids(user)
    return list(Region.objects.filter(pk__in=ids).order_by("path")) if ids else []


def is_grid_worker(user) -> bool:
    return bool(worker_grid_ids(user))


def is_field_worker(user) -> bool:
    """A grid worker or a community worker (the field pages and forms, the offline queue)."""
    return any(role in FIELD_ROLES for role, _p, _r in assignments(user))


def may_work_in(user, path: str) -> bool:
    """The user is a grid worker of this place's grid, or a community worker above it."""
    return any(role in FIELD_ROLES and path.startswith(p) for role, p, _r in assignments(user))


def require_field_area(user, path: str):
    if not may_work_in(user, path):
        raise Forbidden("outside_grid", _("That household is outside your grid."))


# ---------------------------------------------------------------- places


def grid(user, pk) -> Region:
    """One grid of the user's area; NotFound otherwise."""
    return get_scoped(Region.objects.filter(level=Level.GRID), user, pk, field="path")


def grid_values(ids) -> list[dict]:
    """{pk, name, path} of these grids, in tree order."""
    return list(Region.objects.filter(pk__in=list(ids)).order_by("path").values("pk", "name", "path"))


def _under(field: str, paths) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= prefix_q(field, p)
    return q


def grid_choices(paths, limit: int = 500) -> list[dict]:
    """{pk, name, path, parent} of the active grids under the paths, in tree order."""
    rows = list(Region.objects.filter(_under("path", paths), level=Level.GRID, valid_to__isnull=True).order_by("path").values("pk", "name", "path")[:limit])
    parents = {r["path"][: Region.steplen * Level.COMMUNITY] for r in rows}
    names = dict(Region.objects.filter(path__in=parents).values_list("path", "name")) if parents else {}
    for r in rows:
        r["parent"] = names.get(r["path"][: Region.steplen * Level.COMMUNITY], "")
    return rows


def due_list_choices(paths, own: list[int]) -> list[dict]:
    """The grids a due list offers: the grids under `paths` (staff above a grid), after the
    user's own grids that are not among them; a grid worker's own grids only when no paths."""
    if not paths:
        return grid_values(own)
    choices = grid_choices(paths)
    if own:
        known = {c["pk"] for c in choices}
        choices = [c for c in grid_values(own) if c["pk"] not in known] + choices
    return choices


def grids_under(paths, limit: int = 500) -> list[Region]:
    """The grids (open or closed) under the paths, in tree order."""
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(path__startswith=p)
    return list(Region.objects.filter(q, level=Level.GRID).order_by("path")[:limit])


def area_choices(paths, limit: int = 300) -> list[dict]:
    """{pk, name, level} of the districts, streets and communities a rule can be limited to."""
    return list(
        Region.objects.filter(_under("path", paths), level__in=(Level.DISTRICT, Level.STREET, Level.COMMUNITY), valid_to__isnull=True)
        .order_by("path").values("pk", "name", "level")[:limit]
    )


def units_below(area: Region) -> list[Region]:
    """The places one level below `area`, by code."""
    return list(Region.objects.filter(path__startswith=area.path, depth=area.depth + 1).order_by("code", "name"))


def grid_workers_in(paths, limit: int = 300) -> list[dict]:
    """{pk, username, display_name} of the grid workers assigned under the paths."""
    return list(
        User.objects.filter(roles__role=Role.GRID_WORKER)
        .filter(_under("roles__region_path", paths)).distinct().order_by("username").values("pk", "username", "display_name")[:limit]
    )


# ---------------------------------------------------------------- households


def household_to_visit(user, pk):
    """A household of the user's scope (NotFound otherwise) that lies in their field area (a
    visit may be recorded there; Forbidden otherwise)."""
    from registry import access as registry_access

    if not user.has_perm("registry.view"):
        raise Forbidden("forbidden", _("You do not have permission for this."))
    household = get_scoped(registry_access.households(user).select_related("house__building", "head", "region"), user, pk)
    if not may_work_in(user, household.region_path):
        raise Forbidden("outside_grid", _("That household is outside your grid."))
    return household


def household_tags(household_ids) -> dict[int, list[str]]:
    """Open care and key-person tags of the living members, per household (one query)."""
    from registry.models import ResidentStatus, ResidentTag

    out: dict[int, list[str]] = {}
    if not household_ids:
        return out
    rows = (
        ResidentTag.objects.filter(resident__household_id__in=list(household_ids), end_date__isnull=True, resident__status=ResidentStatus.ACTIVE)
        .values_list("resident__household_id", "tag__name").order_by("tag__sort")
    )
    for hid, name in rows:
        names = out.setdefault(hid, [])
        if name not in names:
            names.append(name)
    return out


def current_items(household, today: dt.date | None = None):
    """The household's due items of the current periods."""
    return DueItem.objects.filter(household=household, period_end__gte=today or timezone.localdate())


def follow_up_choices(user, household) -> dict:
    """Open work orders and open mediation cases of the household's grid that a follow-up visit
    can name (newest first, a phone-sized list)."""
    from mediation.models import Case
    from workorders import access as wo_access
    from workorders.models import OPEN_STATUSES

    grid_path = household.region_path[: Region.steplen * Level.GRID]
    orders = list(
        wo_access.orders(user).filter(prefix_q("region_path", grid_path), status__in=OPEN_STATUSES)
        .exclude(kind="mediation").order_by("-reported_at").values("pk", "title", "reported_at")[:50]
    )
    cases = list(
        Case.objects.filter(prefix_q("region_path", grid_path))
        .filter(Q(order__status__in=OPEN_STATUSES) | Q(signed_on__isnull=False, order__closed_at__gte=timezone.now() - dt.timedelta(days=180)))
        .order_by("-order__reported_at").values("pk", "order__title", "order__reported_at")[:50]
    )
    return {"orders": orders, "cases": cases}


# ---------------------------------------------------------------- visits


def visits(user):
    return scoped(Visit.objects.all(), user)


def visit(user, pk):
    return get_scoped(Visit.objects.select_related("household__house__building", "worker", "order", "region"), user, pk)


def filter_visits(qs, *, within: str = "", worker_id: int | None = None, kind: str = "", since: dt.date | None = None,
                  until: dt.date | None = None):
    """The visits of `qs` under the place at path `within`, by one worker, of one kind, made on
    the local days since..until (both included)."""
    if within:
        qs = qs.filter(prefix_q("region_path", within))
    if worker_id is not None:
        qs = qs.filter(worker_id=worker_id)
    if kind:
        qs = qs.filter(kind=kind)
    if since:
        qs = qs.filter(visited_at__gte=timezone.make_aware(dt.datetime.combine(since, dt.time())))
    if until:
        qs = qs.filter(visited_at__lt=timezone.make_aware(dt.datetime.combine(until + dt.timedelta(days=1), dt.time())))
    return qs


def listed(qs):
    """The visits of `qs` with only the columns a visit list shows."""
    return qs.select_related("household__house__building", "worker", "region").only(
        "id", "visited_at", "kind", "nobody_home", "order_id", "notes", "findings", "household_id", "worker_id", "region_id",
        "household__house__unit", "household__house__room", "household__house__building__estate",
        "household__house__building__number", "worker__username", "worker__display_name", "region__name",
    )


def has_visit_key(user, client_key: str) -> bool:
    """The user has recorded a visit with this idempotency key (a replayed offline upload)."""
    return Visit.objects.filter(worker=user, client_key=client_key.strip()[:64]).exists()


def followed_case(visit):
    """The mediation case a follow-up visit names (the visit was checked when it was recorded)."""
    from mediation.models import Case

    return Case.objects.select_related("order").filter(pk=visit.follows_case_id).first() if visit.follows_case_id else None


# ---------------------------------------------------------------- patrols


def patrols(user):
    return scoped(Patrol.objects.all(), user)


def patrol(user, pk):
    return get_scoped(Patrol.objects.select_related("worker", "region"), user, pk)


def own_patrol(user, pk) -> Patrol:
    """One of the user's own patrols, with its worker and grid."""
    return Patrol.objects.select_related("worker", "region").get(pk=pk, worker=user)


def own_or_scoped_patrol(user, pk) -> Patrol:
    """The worker's own patrol, or one in the viewer's area; NotFound otherwise."""
    own = Patrol.objects.select_related("worker", "region").filter(pk=pk, worker=user).first() if str(pk).isdigit() else None
    return own or patrol(user, pk)


def active_patrol(user) -> Patrol | None:
    return Patrol.objects.select_related("region").filter(worker=user, status=PatrolStatus.ACTIVE).first()


def patrols_since(user, since: dt.datetime, limit: int = 50) -> list[Patrol]:
    """The user's own patrols started since `since`, newest first."""
    return list(Patrol.objects.select_related("region").filter(worker=user, started_at__gte=since).order_by("-started_at")[:limit])


def patrol_list(user, *, mine: bool = False, grid_id: int | None = None):
    """The user's own patrols (`mine`), or those of their area and their own."""
    qs = Patrol.objects.filter(worker=user) if mine else patrols(user) | Patrol.objects.filter(worker=user)
    if grid_id is not None:
        qs = qs.filter(Q(region_id=grid_id))
    return qs


# ---------------------------------------------------------------- must attend


def attend_paths(user) -> list[str]:
    """The areas whose must-attend orders the user answers for (grid workers' grids, community
    workers' communities)."""
    return scope_paths(user, FIELD_ROLES)


def must_attend_orders(user, *, open_only: bool = True):
    """Must-attend orders in the user's field area, newest first, with their attendance."""
    from workorders.models import OPEN_STATUSES, WorkOrder

    paths = attend_paths(user)
    if not paths:
        return WorkOrder.objects.none()
    qs = WorkOrder.objects.filter(_under("region_path", paths), category__must_attend=True)
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    return qs.select_related("category", "region", "attendance", "attendance__worker").order_by("-reported_at", "-id")


# ---------------------------------------------------------------- rules


def visit_rule_rows() -> list[VisitRule]:
    """Every visit rule, current and past, by code and newest version first."""
    return list(VisitRule.objects.select_related("region").prefetch_related("tags").order_by("code", "-valid_from"))


def patrol_rule_rows() -> list[PatrolRule]:
    return list(PatrolRule.objects.select_related("region").order_by("-valid_from"))


def visit_rule(pk) -> VisitRule:
    rule = VisitRule.objects.filter(pk=pk).select_related("region").first()
    if rule is None:
        raise NotFound("not_found", _("Not found, or outside your area."))
    return rule


def patrol_rule(pk) -> PatrolRule:
    rule = PatrolRule.objects.filter(pk=pk).first()
    if rule is None:
        raise NotFound("not_found", _("Not found, or outside your area."))
    return rule


# ---------------------------------------------------------------- grid notices


def notice_grids(user) -> list[Region]:
    """The grids of the user's field area (at most 500), each with its `notice` (or None)."""
    paths = sorted({p for role, p, _r in assignments(user) if role in FIELD_ROLES})
    grids = list(Region.objects.filter(_under("path", paths), level=Level.GRID).order_by("path")[:500]) if paths else []
    notices = {p.grid_id: p for p in GridProfile.objects.filter(grid__in=grids)}
    for g in grids:
        g.notice = notices.get(g.pk)
    return grids


# ---------------------------------------------------------------- the resident's home


def resident_home(request, grid) -> dict:
    """A resident's home: the ways to their grid worker (rate them; the public grid notice, once
    the community has written one)."""
    from django.urls import reverse

    links = [{"label": _("Rate my grid worker"), "url": reverse("fieldwork:evaluate"), "icon": "people", "needs_worker": True}]
    slug = GridProfile.objects.filter(grid=grid).values_list("slug", flat=True).first() if grid is not None else None
    if slug:
        links.append({"label": _("Grid notice"), "url": reverse("fieldwork:notice", args=[slug]), "icon": "eye", "needs_worker": False})
    return {"grid_links": links}


# ---------------------------------------------------------------- kept per process


def _visit_rules() -> list[VisitRule]:
    """Every visit rule, past and future ones too (the table is a few dozen rows), each with
    `tag_ids`: the tags it names; for a key-person rule every tag of the "key" category."""
    rules = list(VisitRule.objects.prefetch_related("tags"))
    key_ids = None
    for rule in rules:
        if rule.target == Target.KEY:
            if key_ids is None:
                key_ids = set(CareTag.objects.filter(category=TagCategory.KEY).values_list("id", flat=True))
            rule.tag_ids = key_ids
        else:
            rule.tag_ids = {t.id for t in rule.tags.all()}
    return rules


# Read by every due list and every refresh of a household's items. A key-person rule names the
# tags of the "key" category, so a care tag added or recategorised is a change of the rules too.
visit_rules = Snapshot("fieldwork-visit-rules", _visit_rules).watch(VisitRule, CareTag, m2m=(VisitRule.tags.through,))


def visit_rules_on(day: dt.date) -> list[VisitRule]:
    """The visit rules valid on `day`, each with `tag_ids`."""
    return [r for r in visit_rules.get() if r.valid_from <= day and (r.valid_to is None or day < r.valid_to)]


def _city_box(root_path: str) -> tuple[float, float, float, float] | None:
    root = Region.objects.filter(path=root_path).values_list("min_lat", "min_lng", "max_lat", "max_lng").first()
    if root is None:
        return None
    if None not in root:
        return root
    agg = Region.objects.filter(prefix_q("path", root_path), min_lat__isnull=False).aggregate(
        a=Min("min_lat"), b=Min("min_lng"), c=Max("max_lat"), d=Max("max_lng")
    )
    if agg["a"] is None:
        return None
    return agg["a"], agg["b"], agg["c"], agg["d"]


# Every batch of a patrol's points is checked against its city's box, and a city without a
# boundary of its own needs an aggregate over all its places: each city's box is kept once asked
# for, until a place is saved (a boundary edit, a new place).
city_boxes = Snapshot("fieldwork-city-boxes", dict).watch(Region)


def city_box(region: Region) -> tuple[float, float, float, float] | None:
    """(min_lat, min_lng, max_lat, max_lng) of the city the region lies in: the city's own box,
    else the box of the places below it that have one; None when nothing has a box."""
    root_path = region.path[: Region.steplen]
    boxes = city_boxes.get()
    if root_path not in boxes:
        boxes[root_path] = _city_box(root_path)
    return boxes[root_path]
