"""Due lists: which households each grid worker must visit, derived from the visit rules.

How it works
- A rule applies to a household when the household is in the rule's area and (for tag rules)
  one of its living members has an open tag the rule names. Key-person rules name every tag of
  the "key" category.
- For each applicable rule and its current period there is one DueItem: required visits, visits
  done, the last visit and `due_on`, the day by which the next visit is due. Visits are spread
  evenly: with 2 a quarter the first is due by mid-quarter, the second by its end. An item is
  overdue when `due_on` is before today, so nothing needs recomputing as days pass.
- Past periods' items stay: they are the history that coverage figures are read from.

Keeping it current without recomputing everyone
- A visit adds one to the items of its household whose period holds the visit's day (`count_visit`).
- A household whose members or tags changed is recomputed alone (`refresh_household`, a few
  queries; the registry's `households_changed` event calls it through `households_changed`
  below, connected in apps.py; more households at once are rebuilt by area in the background).
- A rule that is added or edited has its own current items rebuilt (`rebuild_rule`), one
  INSERT ... SELECT.
- A new period (the 1st of a month, Monday, a new quarter) is built once per rule on the first
  call of `ensure_current` that day (the daily job, and every due-list page, call it).
- `recompute_all` rebuilds every rule's current items from the registry and the visits (the
  `rebuild_due_lists` command); tests check that the incremental paths equal it.
"""

import datetime as dt

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from registry.models import Household, ResidentStatus, ResidentTag

from .. import access
from ..models import DueItem, DuePeriod, Period, Target, Visit, VisitRule

# More households than this at once (a bulk import) are rebuilt by area in the background.
INLINE_LIMIT = 50


# ---------------------------------------------------------------- periods


def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the period holding `day`."""
    if period == Period.WEEK:
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    if period == Period.MONTH:
        start = day.replace(day=1)
    elif period == Period.QUARTER:
        start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    else:
        raise ValueError(period)
    months = 1 if period == Period.MONTH else 3
    y, m = divmod(start.month - 1 + months, 12)
    return start, dt.date(start.year + y, m + 1, 1) - dt.timedelta(days=1)


def due_day(start: dt.date, end: dt.date, required: int, done: int) -> dt.date | None:
    """The day the (done+1)-th visit is due when `required` visits are spread over the period."""
    if done >= required or required <= 0:
        return None
    length = (end - start).days + 1
    return start + dt.timedelta(days=max(0, (length * (done + 1)) // required - 1))


def local_day(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


# ---------------------------------------------------------------- rules


def rules_on(day: dt.date) -> list[VisitRule]:
    """The rules valid on `day`, each with `tag_ids` (the set of tags it names), from the rules
    kept per process (fieldwork.access.visit_rules)."""
    return access.visit_rules_on(day)


def forget(**_kwargs):
    """This process reads the visit rules again at their next use."""
    access.visit_rules.forget()


def applies(rule: VisitRule, region_path: str, tag_ids: set) -> bool:
    if rule.region_path and not region_path.startswith(rule.region_path):
        return False
    if rule.target == Target.ALL:
        return True
    return bool(rule.tag_ids & tag_ids)


def household_tag_ids(household_id: int) -> set:
    return set(
        ResidentTag.objects.filter(
            resident__household_id=household_id, resident__status=ResidentStatus.ACTIVE, end_date__isnull=True
        ).values_list("tag_id", flat=True)
    )


# ---------------------------------------------------------------- the registry's changes


def households_changed(sender, household_ids=None, region_path=None, **kwargs):
    """registry.hooks.households_changed: a few households are refreshed at once (inside the
    registry's transaction), more of them or an area after a bulk import in the background."""
    from .. import tasks

    if household_ids and len(household_ids) <= INLINE_LIMIT:
        for hid in sorted(household_ids):
            refresh_household(hid)
        return
    if region_path is None and household_ids:
        paths = sorted(set(Household.objects.filter(pk__in=household_ids).values_list("region_path", flat=True)))
        for path in paths:
            tasks.rebuild_area(path)
        return
    if region_path is not None:
        tasks.rebuild_area(region_path)


# ---------------------------------------------------------------- one household


ITEM_FIGURES = ("grid_id", "region_path", "required", "weight", "done", "last_visit_on", "due_on")


@transaction.atomic
def refresh_household(household_id: int, today: dt.date | None = None) -> int:
    """Recompute the current items of one household (its members, tags or rules changed).
    Returns the number of items it now has."""
    today = today or timezone.localdate()
    hh = Household.objects.filter(pk=household_id).values("id", "region_id", "region_path", "dissolved_on").first()
    current = {i.rule_id: i for i in DueItem.objects.select_for_update().filter(household_id=household_id, period_end__gte=today)}
    if hh is None or hh["dissolved_on"] is not None:
        DueItem.objects.filter(pk__in=[i.pk for i in current.values()]).delete()
        return 0
    tags = household_tag_ids(household_id)
    wanted = [r for r in rules_on(today) if applies(r, hh["region_path"], tags)]
    bounds = {r.id: period_bounds(r.period, today) for r in wanted}
    visits = []
    if wanted:
        since = _local_midnight(min(b[0] for b in bounds.values()))
        visits = [local_day(v) for v in Visit.objects.filter(household_id=household_id, visited_at__gte=since).values_list("visited_at", flat=True)]
    create, update = [], []
    for rule in wanted:
        start, end = bounds[rule.id]
        days = [d for d in visits if start <= d <= end]
        item = current.pop(rule.id, None)
        if item is not None and item.period_start != start:
            # An item of an earlier period cannot still be current; treat as new.
            item = None
        fresh = item or DueItem(household_id=household_id, rule_id=rule.id, period_start=start, period_end=end)
        before = tuple(getattr(fresh, f) for f in ITEM_FIGURES)
        fresh.grid_id, fresh.region_path = hh["region_id"], hh["region_path"]
        fresh.required, fresh.weight = rule.visits, rule.weight
        fresh.done = len(days)
        fresh.last_visit_on = max(days) if days else None
        fresh.due_on = due_day(start, end, rule.visits, fresh.done)
        if item is None:
            create.append(fresh)
        elif tuple(getattr(fresh, f) for f in ITEM_FIGURES) != before:
            update.append(fresh)  # items whose figures did not change are not written
    if current:
        DueItem.objects.filter(pk__in=[i.pk for i in current.values()]).delete()
    if update:
        DueItem.objects.bulk_update(update, list(ITEM_FIGURES))
    if create:
        DueItem.objects.bulk_create(create)
    return len(wanted)


def count_visit(visit: Visit) -> int:
    """Add a new visit to the items of its household whose period holds its day (current or,
    for a visit entered late, past). Returns the number of items changed."""
    day = local_day(visit.visited_at)
    items = list(
        DueItem.objects.select_for_update().filter(household_id=visit.household_id, period_start__lte=day, period_end__gte=day)
    )
    for item in items:
        item.done += 1
        item.last_visit_on = max(item.last_visit_on or day, day)
        item.due_on = due_day(item.period_start, item.period_end, item.required, item.done)
    if items:
        DueItem.objects.bulk_update(items, ["done", "last_visit_on", "due_on"])
    return len(items)


# ---------------------------------------------------------------- whole rules (set-based)


def _visits_sql(pg: bool) -> str:
    last = "(MAX(visited_at) AT TIME ZONE %s)::date" if pg else "date(MAX(visited_at), %s)"
    return (
        f"SELECT household_id, COUNT(*) AS n, {last} AS last FROM {Visit._meta.db_table} "
        "WHERE visited_at >= %s AND visited_at < %s GROUP BY household_id"
    )


def _rule_select(rule: VisitRule, today: dt.date, region_path: str, visits: str, tagged: str) -> tuple[str, list]:
    """SELECT of the current period's items of one rule (every DueItem column but the id) for the
    households it applies to (in `region_path` when given). `visits` names the relation of the
    period's visit counts per household, `tagged` that of (household_id, tag_id) of the living
    members' open tags (common table expressions of build_rules)."""
    start, end = period_bounds(rule.period, today)
    d = connection.ops.adapt_datefield_value
    dues = [due_day(start, end, rule.visits, k) for k in range(rule.visits)]
    due_case = "CASE COALESCE(v.n, 0) " + " ".join(f"WHEN {k} THEN %s" for k in range(len(dues))) + " ELSE NULL END"
    where = ["h.dissolved_on IS NULL"]
    where_params: list = []
    for path in (rule.region_path, region_path):
        if path:
            where.append("h.region_path LIKE %s")
            where_params.append(path + "%")
    if rule.target != Target.ALL:
        ids = ", ".join(str(int(i)) for i in sorted(rule.tag_ids))
        where.append(f"h.id IN (SELECT household_id FROM {tagged} WHERE tag_id IN ({ids}))")
    sql = (
        f"SELECT h.id AS household_id, {int(rule.id)} AS rule_id, h.region_id AS grid_id, h.region_path AS region_path, "
        f"%s AS period_start, %s AS period_end, {int(rule.visits)} AS required, COALESCE(v.n, 0) AS done, "
        f"v.last AS last_visit_on, {due_case} AS due_on, {int(rule.weight)} AS weight "
        f"FROM {Household._meta.db_table} h LEFT JOIN {visits} v ON v.household_id = h.id "
        f"WHERE {' AND '.join(where)}"
    )
    return sql, [d(start), d(end), *[d(x) for x in dues], *where_params]


def _wanted_sql(rules: list[VisitRule], today: dt.date, region_path: str, pg: bool) -> tuple[str, list]:
    """One SELECT of the current items of all these rules. The members' tags are read once for
    all tag rules and the visits counted once per period (not once per rule)."""
    ops = connection.ops
    tz_arg = timezone.get_current_timezone_name() if pg else f"+{int(timezone.localtime().utcoffset().total_seconds() // 60)} minutes"
    ctes, params = [], []
    periods: dict = {}
    for rule in rules:
        bounds = period_bounds(rule.period, today)
        if bounds not in periods:
            periods[bounds] = f"fw_visits{len(periods)}"
            start, end = bounds
            ctes.append(f"{periods[bounds]} AS ({_visits_sql(pg)})")
            params += [tz_arg, ops.adapt_datetimefield_value(_local_midnight(start)),
                       ops.adapt_datetimefield_value(_local_midnight(end + dt.timedelta(days=1)))]
    tag_ids = sorted({i for r in rules if r.target != Target.ALL for i in r.tag_ids})
    if tag_ids:
        ctes.append(
            f"fw_tagged AS (SELECT DISTINCT r.household_id, t.tag_id FROM {ResidentTag._meta.db_table} t "
            f"JOIN registry_resident r ON r.id = t.resident_id WHERE t.tag_id IN ({', '.join(str(int(i)) for i in tag_ids)}) "
            f"AND t.end_date IS NULL AND r.status = %s AND r.household_id IS NOT NULL)"
        )
        params.append(ResidentStatus.ACTIVE.value)
    parts = []
    for k, rule in enumerate(rules):
        sql, ps = _rule_select(rule, today, region_path, periods[period_bounds(rule.period, today)], "fw_tagged")
        parts.append(f"SELECT * FROM ({sql}) w{k}")
        params += ps
    return f"WITH {', '.join(ctes)} {' UNION ALL '.join(parts)}", params


COLUMNS = "household_id, rule_id, grid_id, region_path, period_start, period_end, required, done, last_visit_on, due_on, weight"


def build_rules(rules: list[VisitRule], today: dt.date, region_path: str = "") -> int:
    """Bring the current period's items of these rules in line with the registry and the visits
    (everywhere, or in `region_path` after a bulk import). Returns the number of items they have
    there now.

    A first build (none of the rules has items of its current period yet) is one INSERT ...
    SELECT of all the rules in (household, rule) order, so that the indexes of the items grow at
    their ends instead of being written all over. Over existing items the wanted items are
    computed once into a temporary table and only the difference is written: changed rows
    updated, missing ones inserted, ones no longer wanted deleted. A recompute of a city where
    little changed writes little."""
    pairs = {}
    for rule in rules:
        start = period_bounds(rule.period, today)[0]
        pairs[rule.id] = start
        if rule.target != Target.ALL and not rule.tag_ids:  # rules come from rules_on()
            stale = DueItem.objects.filter(rule=rule, period_start=start)
            (stale.filter(region_path__startswith=region_path) if region_path else stale).delete()
    live = [r for r in rules if r.target == Target.ALL or r.tag_ids]
    for rule in rules:
        DuePeriod.objects.update_or_create(rule=rule, period_start=pairs[rule.id])
    if not live:
        return 0
    pg = connection.vendor == "postgresql"
    d = connection.ops.adapt_datefield_value
    union, params = _wanted_sql(live, today, region_path, pg)
    table = DueItem._meta.db_table
    mine = " OR ".join("(d.rule_id = %s AND d.period_start = %s)" for _r in live)
    mine_params = [x for r in live for x in (r.id, d(pairs[r.id]))]
    existing = Q()
    for r in live:
        existing |= Q(rule_id=r.id, period_start=pairs[r.id])
    with connection.cursor() as cur:
        if pg:
            cur.execute("SET LOCAL work_mem = '64MB'")
        if not DueItem.objects.filter(existing).exists():
            cur.execute(f"INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM ({union}) w ORDER BY household_id, rule_id", params)
            return cur.rowcount
        cur.execute("DROP TABLE IF EXISTS fieldwork_due_wanted")
        cur.execute(f"CREATE TEMPORARY TABLE fieldwork_due_wanted AS {union}", params)
        if pg:
            n = cur.rowcount
            cur.execute("ANALYZE fieldwork_due_wanted")
        else:
            cur.execute("SELECT COUNT(*) FROM fieldwork_due_wanted")
            n = cur.fetchone()[0]
        differs = "IS DISTINCT FROM" if pg else "IS NOT"
        same_item = "n.household_id = d.household_id AND n.rule_id = d.rule_id AND n.period_start = d.period_start"
        # Changed items: only rows whose figures differ are written.
        cur.execute(
            f"UPDATE {table} AS d SET grid_id = n.grid_id, region_path = n.region_path, period_end = n.period_end, "
            "required = n.required, done = n.done, last_visit_on = n.last_visit_on, due_on = n.due_on, weight = n.weight "
            f"FROM fieldwork_due_wanted n WHERE {same_item} AND (d.grid_id <> n.grid_id OR d.region_path <> n.region_path "
            f"OR d.period_end <> n.period_end OR d.required <> n.required OR d.done <> n.done OR d.weight <> n.weight "
            f"OR d.last_visit_on {differs} n.last_visit_on OR d.due_on {differs} n.due_on)"
        )
        # Items no longer wanted (the household left the area, lost its tags or was dissolved).
        scope = " AND d.region_path LIKE %s" if region_path else ""
        cur.execute(
            f"DELETE FROM {table} WHERE id IN (SELECT d.id FROM {table} d WHERE ({mine}){scope} "
            f"AND NOT EXISTS (SELECT 1 FROM fieldwork_due_wanted n WHERE {same_item}))",
            [*mine_params, *([region_path + "%"] if region_path else [])],
        )
        # New items.
        cur.execute(
            f"INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM fieldwork_due_wanted n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} d WHERE {same_item}) ORDER BY household_id, rule_id"
        )
        cur.execute("DROP TABLE fieldwork_due_wanted")
    return n


def build_rule(rule: VisitRule, today: dt.date, region_path: str = "") -> int:
    """The current period's items of one rule (see build_rules)."""
    return build_rules([rule], today, region_path)


def rules_by_id(today: dt.date) -> dict[int, VisitRule]:
    return {r.id: r for r in rules_on(today)}


@transaction.atomic
def rebuild_rule(rule_id: int, today: dt.date | None = None) -> int:
    """A rule was added, edited or ended: rewrite its current items only."""
    today = today or timezone.localdate()
    rule = rules_by_id(today).get(rule_id)
    if rule is None:
        # Ended or not yet valid: its current items go.
        DueItem.objects.filter(rule_id=rule_id, period_end__gte=today).delete()
        return 0
    DueItem.objects.filter(rule_id=rule_id, period_end__gte=today).exclude(period_start=period_bounds(rule.period, today)[0]).delete()
    return build_rule(rule, today)


@transaction.atomic
def recompute_all(today: dt.date | None = None, region_path: str = "") -> int:
    """Rebuild every rule's current items (everywhere, or under `region_path`)."""
    today = today or timezone.localdate()
    rules = rules_on(today)
    # Current items of rules no longer valid, or of a period that is not the rule's current one, go;
    # every valid rule's current items are then brought in line (build_rule writes only what differs).
    stale = DueItem.objects.filter(period_end__gte=today)
    if region_path:
        stale = stale.filter(region_path__startswith=region_path)
    keep = Q()
    for rule in rules:
        keep |= Q(rule_id=rule.id, period_start=period_bounds(rule.period, today)[0])
    (stale.exclude(keep) if rules else stale).delete()
    return build_rules(rules, today, region_path=region_path)


def ensure_current(today: dt.date | None = None) -> int:
    """Build the items of any rule whose current period has not been built yet (a new month,
    week or quarter, or a rule that just became valid). Cheap when there is nothing to do: one
    small query."""
    today = today or timezone.localdate()
    rules = rules_on(today)
    built = set(DuePeriod.objects.filter(period_start__gte=today - dt.timedelta(days=92)).values_list("rule_id", "period_start"))
    n = 0
    for rule in rules:
        start = period_bounds(rule.period, today)[0]
        if (rule.id, start) not in built:
            with transaction.atomic():
                n += build_rule(rule, today)
    return n


# ---------------------------------------------------------------- reading a due list


class DueHousehold:
    """One household on a due list: its current items, most urgent first."""

    __slots__ = ("household", "items", "due_on", "weight", "done")

    def __init__(self, household):
        self.household = household
        self.items: list[DueItem] = []
        self.due_on = None
        self.weight = 0
        self.done = True

    def state(self, today: dt.date) -> str:
        if self.done:
            return "done"
        return "overdue" if self.due_on < today else "due"

    def days_overdue(self, today: dt.date) -> int:
        return (today - self.due_on).days if self.due_on and self.due_on < today else 0


# The columns a due list reads of its households (the address and the head's name; the rest of
# the registry rows, ciphertexts included, stays in the database: any other field still loads
# on access, one query per row, so a caller needing more should name it here).
LIST_ONLY = (
    *(f.name for f in DueItem._meta.concrete_fields),
    "household__id", "household__region_id", "household__region_path", "household__house_id", "household__number",
    "household__head_id", "household__dissolved_on",
    "household__house__id", "household__house__region_id", "household__house__building_id", "household__house__unit",
    "household__house__room", "household__house__floor", "household__house__use",
    "household__house__building__id", "household__house__building__region_id", "household__house__building__estate",
    "household__house__building__number", "household__house__building__address",
    "household__head__id", "household__head__name", "household__head__gender", "household__head__birth_date",
    "household__head__household_id", "household__head__relation", "household__head__status",
    "household__head__phone_masked", "household__head__region_id",
)


def due_list(grid_ids, today: dt.date | None = None) -> list[DueHousehold]:
    """The households of these grids with a current item: overdue first (most overdue first),
    then due (soonest first), then done; among equals the most vulnerable (highest weight)
    first. One query."""
    today = today or timezone.localdate()
    ensure_current(today)
    items = (
        DueItem.objects.filter(grid_id__in=list(grid_ids), period_end__gte=today, period_start__lte=today)
        .select_related("household__house__building", "household__head")
        .only(*LIST_ONLY)
        .order_by("due_on", "-weight", "household_id")
    )
    # Each item's rule comes from the per-process rule cache (a list shows a handful of rules,
    # not one object per row); a rule the cache does not hold is read once.
    rules = rules_by_id(today)
    rule_field = DueItem._meta.get_field("rule")
    items = list(items)
    missing = {i.rule_id for i in items} - rules.keys()
    if missing:
        rules = {**rules, **VisitRule.objects.in_bulk(missing)}
    out: dict[int, DueHousehold] = {}
    for item in items:
        rule_field.set_cached_value(item, rules[item.rule_id])
        entry = out.get(item.household_id)
        if entry is None:
            entry = out[item.household_id] = DueHousehold(item.household)
        entry.items.append(item)
        entry.weight = max(entry.weight, item.weight)
        if not item.is_done:
            entry.done = False
            if entry.due_on is None or item.due_on < entry.due_on:
                entry.due_on = item.due_on
    far = dt.date.max
    return sorted(out.values(), key=lambda e: (e.done, e.due_on or far, -e.weight, e.household.pk))
