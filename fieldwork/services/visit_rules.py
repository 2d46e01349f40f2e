"""Visit and patrol rules as data (DESIGN contract 4): administrators add, edit and end them.

An edit never rewrites history: the old row is end-dated on the day the change takes effect and
a new row (same code) starts that day, so the due items of past periods keep pointing at the
rule that was in force. A row that has not taken effect yet is edited in place. After the
transaction commits, only the rules touched are rebuilt (fieldwork.tasks.rebuild_rule), never
everyone's due list. The audit log records every row written (auditlog is registered for both
models in apps.py).
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import in_scope, roles
from accounts.models import Role
from linli.errors import Conflict, DomainError, Forbidden
from regions.models import Level, Region
from registry.models import CareTag

from ..models import PatrolRule, Period, Target, VisitRule


def require_configure(actor):
    if not actor.has_perm("fieldwork.configure"):
        raise Forbidden("forbidden", _("Only city and district administrators change visit and patrol rules."))


def _may_edit_area(actor, region_path: str) -> bool:
    """City-wide rules are the city's; an area's rule belongs to the administrators above it."""
    if not region_path:
        return Role.CITY_ADMIN in roles(actor)
    return in_scope(actor, region_path, {Role.CITY_ADMIN, Role.DISTRICT_ADMIN})


def _region(actor, value) -> Region | None:
    if value in (None, ""):
        return None
    if isinstance(value, Region):
        region = value
    else:
        region = Region.objects.filter(pk=int(value)).first() if str(value).isdigit() else None
    if region is None or region.level > Level.COMMUNITY or not _may_edit_area(actor, region.path):
        raise DomainError("area_invalid", _("Choose an area inside your own."), field="region")
    return region


def _day(value, *, field: str = "valid_from") -> dt.date:
    today = timezone.localdate()
    if value in (None, ""):
        return today
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise DomainError("date_invalid", _("That date is not valid."), field=field)
    if value < today:
        raise DomainError("rule_in_past", _("A change takes effect today or later, never in the past."), field=field)
    return value


def _int(value, field, lo, hi, message):
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise DomainError("number_invalid", message, field=field)
    if not lo <= n <= hi:
        raise DomainError("number_invalid", message, field=field)
    return n


def _clean_visit_rule(actor, data: dict) -> dict:
    name = (data.get("name") or "").strip()[:100]
    if not name:
        raise DomainError("name_required", _("Give the rule a name."), field="name")
    target = data.get("target") or Target.ALL
    if target not in Target.values:
        raise DomainError("target_invalid", _("Choose which households the rule applies to."), field="target")
    period = data.get("period") or Period.QUARTER
    if period not in Period.values:
        raise DomainError("period_invalid", _("Choose a week, a month or a quarter."), field="period")
    tags = []
    if target == Target.TAGS:
        ids = [int(t) for t in data.get("tags") or [] if str(t).isdigit()]
        tags = list(CareTag.objects.filter(pk__in=ids, active=True))
        if not tags:
            raise DomainError("tags_required", _("Tick at least one tag."), field="tags")
    return {
        "name": name,
        "target": target,
        "period": period,
        "visits": _int(data.get("visits"), "visits", 1, 31, _("Visits per period: a whole number from 1 to 31.")),
        "weight": _int(data.get("weight") or 1, "weight", 1, 99, _("Priority weight: a whole number from 1 to 99.")),
        "must_visit": bool(data.get("must_visit")) and str(data.get("must_visit")).lower() not in ("0", "false", "off"),
        "region": _region(actor, data.get("region")),
        "tags": tags,
    }


def _after_commit(*rule_ids, on: dt.date | None = None):
    """Rebuild the rules' current items once the change is committed; a change dated later is
    rebuilt again just after midnight of that day (the old version's items go, the new one's come)."""
    from .. import tasks

    for rid in rule_ids:
        transaction.on_commit(lambda rid=rid: tasks.rebuild_rule(rid))
        if on is not None and on > timezone.localdate():
            eta = timezone.make_aware(dt.datetime.combine(on, dt.time(0, 1)))
            transaction.on_commit(lambda rid=rid, eta=eta: tasks.rebuild_rule.schedule(args=(rid,), eta=eta))


@transaction.atomic
def add_visit_rule(actor, data: dict) -> VisitRule:
    require_configure(actor)
    code = (data.get("code") or "").strip().lower()
    if not code or not all(c.isalnum() or c in "_-" for c in code) or len(code) > 40:
        raise DomainError("code_invalid", _("The code is letters, digits, - and _ (at most 40)."), field="code")
    valid_from = _day(data.get("valid_from"))
    if VisitRule.objects.filter(code=code).exists():
        raise Conflict("code_taken", _("A rule with the code %(rule_code)s exists; edit it instead."), field="code", rule_code=code)
    fields = _clean_visit_rule(actor, data)
    tags = fields.pop("tags")
    region = fields.pop("region")
    rule = VisitRule(code=code, valid_from=valid_from, region=region, region_path=region.path if region else "", **fields)
    rule.save()
    rule.tags.set(tags)
    _after_commit(rule.pk, on=valid_from)
    return rule


@transaction.atomic
def edit_visit_rule(actor, rule: VisitRule, data: dict) -> VisitRule:
    """Change a rule from `valid_from` (today by default): end-date the old row, start a new one."""
    require_configure(actor)
    rule = VisitRule.objects.select_for_update().get(pk=rule.pk)
    if not _may_edit_area(actor, rule.region_path):
        raise Forbidden("forbidden", _("This rule belongs to a wider area than yours."))
    today = timezone.localdate()
    if rule.valid_to is not None and rule.valid_to <= today:
        raise DomainError("rule_ended", _("This rule has ended; add a new one instead."))
    effective = _day(data.get("valid_from"))
    fields = _clean_visit_rule(actor, data)
    tags = fields.pop("tags")
    region = fields.pop("region")
    if effective <= rule.valid_from:
        # Not in force yet (or starting that very day): no history to keep.
        target = rule
        if effective != rule.valid_from and VisitRule.objects.filter(code=rule.code, valid_from=effective).exists():
            raise Conflict("rule_version_exists", _("Another version of this rule starts that day."), field="valid_from")
        target.valid_from = effective
    else:
        if VisitRule.objects.filter(code=rule.code, valid_from=effective).exists():
            raise Conflict("rule_version_exists", _("Another version of this rule starts that day."), field="valid_from")
        target = VisitRule(code=rule.code, valid_from=effective, valid_to=rule.valid_to)
        rule.valid_to = effective
        rule.save(update_fields=["valid_to"])
    for k, v in fields.items():
        setattr(target, k, v)
    target.region = region
    target.region_path = region.path if region else ""
    target.save()
    target.tags.set(tags)
    _after_commit(*sorted({rule.pk, target.pk}), on=effective)
    return target


@transaction.atomic
def end_visit_rule(actor, rule: VisitRule, on=None) -> VisitRule:
    """The rule stops applying from `on` (today by default); its current items go."""
    require_configure(actor)
    rule = VisitRule.objects.select_for_update().get(pk=rule.pk)
    if not _may_edit_area(actor, rule.region_path):
        raise Forbidden("forbidden", _("This rule belongs to a wider area than yours."))
    on = _day(on, field="valid_to")
    if rule.valid_to is not None and rule.valid_to <= on:
        raise DomainError("rule_ended", _("This rule has ended; add a new one instead."))
    if on < rule.valid_from:
        on = rule.valid_from
    rule.valid_to = on
    rule.save(update_fields=["valid_to"])
    _after_commit(rule.pk, on=on)
    return rule


def _clean_patrol_rule(actor, data: dict) -> dict:
    return {
        "min_minutes": _int(data.get("min_minutes"), "min_minutes", 30, 720, _("Minutes per day: a whole number from 30 to 720.")),
        "region": _region(actor, data.get("region")),
    }


@transaction.atomic
def save_patrol_rule(actor, rule: PatrolRule | None, data: dict) -> PatrolRule:
    """Add a patrol rule, or change one from `valid_from` (the old row is end-dated)."""
    require_configure(actor)
    fields = _clean_patrol_rule(actor, data)
    effective = _day(data.get("valid_from"))
    region = fields["region"]
    if rule is not None:
        rule = PatrolRule.objects.select_for_update().get(pk=rule.pk)
        if not _may_edit_area(actor, rule.region_path):
            raise Forbidden("forbidden", _("This rule belongs to a wider area than yours."))
        if effective <= rule.valid_from:
            rule.min_minutes = fields["min_minutes"]
            rule.region, rule.region_path = region, region.path if region else ""
            rule.valid_from = effective
            rule.save()
            return rule
        valid_to = rule.valid_to
        rule.valid_to = effective
        rule.save(update_fields=["valid_to"])
    else:
        valid_to = None
        if not _may_edit_area(actor, region.path if region else ""):
            raise Forbidden("forbidden", _("This rule belongs to a wider area than yours."))
    new = PatrolRule(min_minutes=fields["min_minutes"], region=region, region_path=region.path if region else "", valid_from=effective, valid_to=valid_to)
    new.save()
    return new
