"""Administering the category tree: categories, their attribute schemas, SLA limits and routing.

Every change is one `transaction.atomic` function that checks the actor's right and the input
and refuses with a DomainError (nothing written) when something is wrong. SLA rules keep their
history: a new limit starts on a day (today or later) and ends the one in force before it, so a
deadline computed last month can still be explained by the rule of last month.
"""

import datetime as dt
import re

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import in_scope
from linli.errors import DomainError, Forbidden, NotFound
from regions.models import Region

from .. import access
from ..models import Category, CategoryAttribute, Datatype, HandlerLevel, Kind, RoutingRule, SlaRule, Stage

CODE = re.compile(r"^[a-z][a-z0-9_.-]{0,39}$")
ATTRIBUTE_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
LIST_TYPES = (Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST)
MAX_MINUTES = 365 * 24 * 60
MAX_MATERIALS = 30


def can_configure(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm("workorders.configure"))


def _require(actor):
    if actor is not None and not can_configure(actor):
        raise Forbidden("forbidden", _("Only city and district administrators can change categories."))


def _text(value, limit, field, label, required=False) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if required and not value:
        raise DomainError("required", _("%(label)s is required."), field=field, label=label)
    if len(value) > limit:
        raise DomainError("too_long", _("%(label)s is at most %(n)s characters."), field=field, label=label, n=limit)
    return value


def _int(value, field, label, lo, hi, required=False) -> int | None:
    if value in (None, ""):
        if required:
            raise DomainError("required", _("%(label)s is required."), field=field, label=label)
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError("number_invalid", _("%(label)s must be a whole number from %(lo)s to %(hi)s."), field=field, label=label, lo=lo, hi=hi)
    if not lo <= number <= hi:
        raise DomainError("number_invalid", _("%(label)s must be a whole number from %(lo)s to %(hi)s."), field=field, label=label, lo=lo, hi=hi)
    return number


def parse_lines(text) -> list[str]:
    """One item per line, blank lines and surrounding spaces dropped."""
    if isinstance(text, (list, tuple)):
        lines = [str(t) for t in text]
    else:
        lines = str(text or "").splitlines()
    return [line.strip() for line in lines if line.strip()]


# ------------------------------------------------------------------ categories


def _materials(value) -> list[str]:
    items = parse_lines(value)
    if len(items) > MAX_MATERIALS:
        raise DomainError("materials_too_many", _("List at most %(n)s materials."), field="materials", n=MAX_MATERIALS)
    seen = set()
    for item in items:
        if len(item) > 100:
            raise DomainError("material_too_long", _("A material is at most 100 characters: %(item)s"), field="materials", item=item[:20] + "…")
        if item in seen:
            raise DomainError("material_twice", _("%(item)s is listed twice."), field="materials", item=item)
        seen.add(item)
    return items


@transaction.atomic
def update_category(actor, category: Category, data: dict) -> Category:
    """Change what an administrator may change of a category: its name, texts, flags and, for
    one-window items, materials, time limit, handling unit, channel and service type. The code
    (Open311 service_code) and kind stay: orders and API clients refer to them."""
    _require(actor)
    cat = Category.objects.select_for_update().get(pk=category.pk)
    cat.name = _text(data.get("name"), 100, "name", _("Name"), required=True)
    cat.description = _text(data.get("description"), 2000, "description", _("Description"))
    cat.keywords = _text(data.get("keywords"), 200, "keywords", _("Keywords"))
    for flag in ("active", "settle_on_spot", "must_attend", "working_hours"):
        if flag in data:
            setattr(cat, flag, bool(data.get(flag)))
    if "sort" in data:
        cat.sort = _int(data.get("sort"), "sort", _("Order"), 0, 100000) or 0
    if cat.kind == Kind.SERVICE and not cat.is_group:
        cat.materials = _materials(data.get("materials"))
        cat.time_limit_days = _int(data.get("time_limit_days"), "time_limit_days", _("Time limit (working days)"), 1, 365, required=True)
        cat.handling_unit = _text(data.get("handling_unit"), 100, "handling_unit", _("Handling unit"), required=True)
        channel = data.get("channel") or ""
        if channel not in dict(Category._meta.get_field("channel").choices):
            raise DomainError("channel_invalid", _("Choose online, at the window, or both."), field="channel")
        service_type = data.get("service_type") or ""
        if service_type not in dict(Category._meta.get_field("service_type").choices):
            raise DomainError("service_type_invalid", _("Choose a public, social or market service."), field="service_type")
        cat.channel, cat.service_type = channel, service_type
    # A category switched off takes no new reports; its open orders run to their end.
    if cat.active and cat.parent_id and not Category.objects.filter(pk=cat.parent_id, active=True).exists():
        raise DomainError("parent_inactive", _("Its group %(name)s is switched off; switch the group on first."), field="active", name=cat.parent.name)
    cat.save()
    if not cat.active and cat.is_group:
        # Switching a group off switches off everything below it (one UPDATE, no save signals:
        # the kept category tree is told itself).
        _descendants(cat).update(active=False)
        access.kept_categories.changed()
    return cat


def _descendants(cat: Category):
    ids, frontier = [], [cat.pk]
    while frontier:
        frontier = list(Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids += frontier
    return Category.objects.filter(pk__in=ids)


@transaction.atomic
def create_category(actor, parent: Category, *, code: str, name: str, is_group: bool = False) -> Category:
    """A new category under a group; it takes the group's kind and calendar and, until it has
    rules of its own, the group's SLA limits and routing."""
    _require(actor)
    if parent is None or not parent.is_group:
        raise DomainError("parent_not_group", _("New categories go under a group."), field="parent")
    code = (code or "").strip().lower()
    if not CODE.match(code):
        raise DomainError("code_invalid", _("The code is 1 to 40 lower-case letters, digits, dots, dashes or underscores, starting with a letter."), field="code")
    if Category.objects.filter(code=code).exists():
        raise DomainError("code_taken", _("The code %(value)s is already used."), field="code", value=code)
    name = _text(name, 100, "name", _("Name"), required=True)
    sort = (Category.objects.filter(parent=parent).aggregate(m=Max("sort"))["m"] or parent.sort) + 10
    return Category.objects.create(
        parent=parent, kind=parent.kind, code=code, name=name, is_group=bool(is_group), sort=sort,
        working_hours=parent.working_hours, settle_on_spot=parent.settle_on_spot, active=parent.active,
        channel="both" if parent.kind == Kind.SERVICE and not is_group else "",
        service_type="public" if parent.kind == Kind.SERVICE and not is_group else "",
        time_limit_days=5 if parent.kind == Kind.SERVICE and not is_group else None,
        handling_unit="社区居委会" if parent.kind == Kind.SERVICE and not is_group else "",
    )


# ------------------------------------------------------------------ attributes


def parse_values(text) -> list[dict]:
    """Choices written one per line as `key|name` (a line without `|` uses itself for both)."""
    out, keys = [], set()
    for n, line in enumerate(parse_lines(text), start=1):
        key, _sep, name = line.partition("|")
        key, name = key.strip(), (name.strip() or key.strip())
        if not key or not re.match(r"^[A-Za-z0-9_.-]{1,40}$", key):
            raise DomainError(
                "value_key_invalid", _("Line %(n)s: the key before | is 1 to 40 letters, digits, dots, dashes or underscores."), field="values", n=n
            )
        if len(name) > 100:
            raise DomainError("value_name_too_long", _("Line %(n)s: the name is at most 100 characters."), field="values", n=n)
        if key in keys:
            raise DomainError("value_key_twice", _("Line %(n)s: the key %(key)s is used twice."), field="values", n=n, key=key)
        keys.add(key)
        out.append({"key": key, "name": name})
    return out


def format_values(values) -> str:
    return "\n".join(f"{v.get('key')}|{v.get('name')}" for v in values or [])


@transaction.atomic
def save_attribute(actor, category: Category, data: dict, attribute: CategoryAttribute | None = None) -> CategoryAttribute:
    """Add an attribute to a category, or change one. Its code is fixed once created (stored
    answers and API clients use it)."""
    _require(actor)
    if category.is_group:
        raise DomainError("category_group", _("Attributes belong to categories that take orders, not to groups."))
    if attribute is None:
        code = (data.get("code") or "").strip()
        if not ATTRIBUTE_CODE.match(code):
            raise DomainError(
                "code_invalid", _("The code is 1 to 40 lower-case letters, digits or underscores, starting with a letter."), field="code"
            )
        if CategoryAttribute.objects.filter(category=category, code=code).exists():
            raise DomainError("code_taken", _("The code %(value)s is already used."), field="code", value=code)
        last = CategoryAttribute.objects.filter(category=category).aggregate(m=Max("order"))["m"] or 0
        attribute = CategoryAttribute(category=category, code=code, order=last + 1)
    elif attribute.category_id != category.pk:
        raise NotFound("not_found", _("Not found, or outside your area."))
    datatype = data.get("datatype") or ""
    if datatype not in Datatype.values:
        raise DomainError("datatype_invalid", _("Choose the type of answer."), field="datatype")
    attribute.datatype = datatype
    attribute.description = _text(data.get("description"), 200, "description", _("Question"), required=True)
    attribute.required = bool(data.get("required"))
    values = parse_values(data.get("values"))
    if datatype in LIST_TYPES:
        if len(values) < 2:
            raise DomainError("values_required", _("A list needs at least two choices, one per line as key|name."), field="values")
    elif values:
        raise DomainError("values_not_allowed", _("Only the list types have choices; clear the choices or pick a list type."), field="values")
    attribute.values = values
    attribute.save()
    return attribute


@transaction.atomic
def move_attribute(actor, attribute: CategoryAttribute, up: bool) -> None:
    """Swap an attribute with its neighbour; the orders are renumbered 1, 2, 3..."""
    _require(actor)
    rows = list(CategoryAttribute.objects.select_for_update().filter(category_id=attribute.category_id).order_by("order", "id"))
    i = next((n for n, a in enumerate(rows) if a.pk == attribute.pk), None)
    if i is None:
        raise NotFound("not_found", _("Not found, or outside your area."))
    j = i - 1 if up else i + 1
    if 0 <= j < len(rows):
        rows[i], rows[j] = rows[j], rows[i]
    for n, a in enumerate(rows, start=1):
        if a.order != n:
            a.order = n
            a.save(update_fields=["order"])


@transaction.atomic
def delete_attribute(actor, attribute: CategoryAttribute) -> None:
    """Remove a question. Answers already given stay on their orders."""
    _require(actor)
    attribute.delete()


# ------------------------------------------------------------------ SLA rules


def rules_in_force(category: Category, on: dt.date | None = None) -> dict:
    """{stage: rule} of the category's own rules in force on a day."""
    on = on or timezone.localdate()
    out = {}
    for r in SlaRule.objects.filter(category=category, valid_from__lte=on).order_by("stage", "-valid_from"):
        if r.stage not in out and (r.valid_to is None or r.valid_to > on):
            out[r.stage] = r
    return out


@transaction.atomic
def add_sla_rule(actor, category: Category, *, stage: str, minutes, urgent_minutes=None, valid_from=None) -> SlaRule:
    """A new limit for a stage from a day (today or later). The rule in force before that day
    ends the day before; a rule already planned for a later day stays and ends this one."""
    _require(actor)
    if stage not in Stage.values:
        raise DomainError("stage_invalid", _("Choose the stage."), field="stage")
    minutes = _int(minutes, "minutes", _("Limit (minutes)"), 1, MAX_MINUTES, required=True)
    urgent = _int(urgent_minutes, "urgent_minutes", _("Urgent limit (minutes)"), 1, MAX_MINUTES)
    if urgent is not None and urgent > minutes:
        raise DomainError("urgent_longer", _("The urgent limit cannot be longer than the normal one."), field="urgent_minutes")
    today = timezone.localdate()
    if valid_from in (None, ""):
        valid_from = today
    if isinstance(valid_from, str):
        try:
            valid_from = dt.date.fromisoformat(valid_from.strip())
        except ValueError:
            raise DomainError("date_invalid", _("Give the date as 2026-05-01."), field="valid_from")
    if valid_from < today:
        raise DomainError("date_past", _("A new limit starts today or later; the past stays as it was."), field="valid_from")
    rules = list(SlaRule.objects.select_for_update().filter(category=category, stage=stage).order_by("valid_from"))
    if any(r.valid_from == valid_from for r in rules):
        raise DomainError("rule_same_day", _("A limit for this stage already starts on %(day)s; remove it first or pick another day."), field="valid_from", day=valid_from.isoformat())
    before = [r for r in rules if r.valid_from < valid_from]
    after = [r for r in rules if r.valid_from > valid_from]
    if before and (before[-1].valid_to is None or before[-1].valid_to > valid_from):
        before[-1].valid_to = valid_from
        before[-1].save(update_fields=["valid_to"])
    return SlaRule.objects.create(
        category=category, stage=stage, minutes=minutes, urgent_minutes=urgent, valid_from=valid_from,
        valid_to=after[0].valid_from if after else None,
    )


@transaction.atomic
def delete_sla_rule(actor, rule: SlaRule) -> None:
    """Withdraw a limit that has not started yet; the one before it runs on as it did."""
    _require(actor)
    rule = SlaRule.objects.select_for_update().get(pk=rule.pk)
    if rule.valid_from <= timezone.localdate():
        raise DomainError("rule_started", _("This limit is already in force and stays in the history; add a new one from a later day instead."))
    previous = SlaRule.objects.filter(category_id=rule.category_id, stage=rule.stage, valid_from__lt=rule.valid_from).order_by("-valid_from").first()
    if previous is not None and previous.valid_to == rule.valid_from:
        previous.valid_to = rule.valid_to
        previous.save(update_fields=["valid_to"])
    rule.delete()


# ------------------------------------------------------------------ routing rules


def _may_route(actor, region: Region | None) -> bool:
    if actor is None:
        return True
    from accounts.access import roles
    from accounts.models import Role

    if region is None:
        return Role.CITY_ADMIN in roles(actor)
    return in_scope(actor, region.path, {Role.CITY_ADMIN, Role.DISTRICT_ADMIN})


@transaction.atomic
def save_routing_rule(actor, category: Category, *, region: Region | None, level, department: str = "") -> RoutingRule:
    """Who handles the category in a place (the whole city when no place). One rule per place:
    saving again for the same place replaces it."""
    _require(actor)
    if not _may_route(actor, region):
        raise Forbidden("forbidden", _("You can set routing only for places in your area."))
    if region is not None and region.valid_to is not None:
        raise DomainError("region_inactive", _("%(name)s has been closed; choose its successor."), field="region", name=region.name)
    try:
        level = int(level)
    except (TypeError, ValueError):
        level = 0
    if level not in HandlerLevel.values:
        raise DomainError("level_invalid", _("Choose the level that handles it."), field="level")
    if region is not None and level < region.level:
        raise DomainError(
            "level_above_place", _("A rule for %(place)s cannot send work above it; choose its level or a lower one."), field="level", place=region.name
        )
    department = _text(department, 100, "department", _("Department"))
    rule = RoutingRule.objects.select_for_update().filter(category=category, region=region).first() or RoutingRule(category=category, region=region)
    rule.region_path = region.path if region is not None else ""
    rule.level = level
    rule.department = department
    rule.save()
    return rule


@transaction.atomic
def delete_routing_rule(actor, rule: RoutingRule) -> None:
    _require(actor)
    if not _may_route(actor, rule.region):
        raise Forbidden("forbidden", _("You can set routing only for places in your area."))
    rule.delete()
