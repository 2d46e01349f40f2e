"""Pages of the visit and patrol rules (the city's policy, as dated data): the list, and the forms
that add, change from a day or end a rule. Administrators change them (fieldwork.configure);
street officers read them (fieldwork.view_config).

Views parse, call fieldwork.services.visit_rules, render; a refusal is shown at the form.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import scope_paths
from accounts.models import Role
from linli.errors import DomainError
from linli.pages import page, raise_access
from registry.models import CareTag

from .. import access
from ..models import Period, Target
from ..services import visit_rules


def _rules_perm(user, edit=False):
    if not user.has_perm("fieldwork.configure" if edit else "fieldwork.view_config"):
        raise PermissionDenied


@page()
def rules(request):
    user = request.user
    _rules_perm(user)
    today = timezone.localdate()
    rows = access.visit_rule_rows()
    return render(request, "fieldwork/rules/list.html", {
        "current": [r for r in rows if r.valid_on(today) or r.valid_from > today],
        "past": [r for r in rows if not (r.valid_on(today) or r.valid_from > today)],
        "patrol_rules": access.patrol_rule_rows(),
        "today": today,
        "may_edit": user.has_perm("fieldwork.configure"),
    })


def _rule_form_context(user, rule=None, data=None, error=None, kind="visit"):
    paths = scope_paths(user, {Role.CITY_ADMIN, Role.DISTRICT_ADMIN})
    return {
        "rule": rule,
        "data": data,
        "error": error,
        "kind": kind,
        "targets": Target.choices,
        "periods": Period.choices,
        "tags": list(CareTag.objects.filter(active=True).order_by("category", "sort")),
        "chosen_tags": {int(t) for t in (data.getlist("tags") if data is not None else [t.pk for t in rule.tags.all()] if rule and kind == "visit" else []) if str(t).isdigit()},
        "areas": access.area_choices(paths),
        "today": timezone.localdate().isoformat(),
    }


def _rule_data(post) -> dict:
    return {
        "code": post.get("code"), "name": post.get("name"), "target": post.get("target"), "tags": post.getlist("tags"),
        "visits": post.get("visits"), "period": post.get("period"), "weight": post.get("weight"), "must_visit": post.get("must_visit"),
        "region": post.get("region"), "valid_from": post.get("valid_from"), "min_minutes": post.get("min_minutes"),
    }


@page()
def rule_new(request):
    user = request.user
    _rules_perm(user, edit=True)
    if request.method == "POST":
        try:
            rule = visit_rules.add_visit_rule(user, _rule_data(request.POST))
        except DomainError as e:
            raise_access(e)
            return render(request, "fieldwork/rules/visit_form.html", _rule_form_context(user, None, request.POST, e))
        messages.success(request, _("Rule %(name)s added; due lists are being updated.") % {"name": rule.name})
        return redirect("fieldwork:rules")
    return render(request, "fieldwork/rules/visit_form.html", _rule_form_context(user))


@page()
def rule_edit(request, pk):
    user = request.user
    _rules_perm(user, edit=True)
    rule = access.visit_rule(pk)
    if request.method == "POST":
        try:
            if request.POST.get("end"):
                visit_rules.end_visit_rule(user, rule, request.POST.get("valid_from") or None)
                messages.success(request, _("Rule %(name)s ended; due lists are being updated.") % {"name": rule.name})
            else:
                new = visit_rules.edit_visit_rule(user, rule, _rule_data(request.POST))
                messages.success(request, _("Rule %(name)s changed from %(day)s; due lists are being updated.") % {"name": new.name, "day": new.valid_from})
        except DomainError as e:
            raise_access(e)
            return render(request, "fieldwork/rules/visit_form.html", _rule_form_context(user, rule, request.POST, e))
        return redirect("fieldwork:rules")
    return render(request, "fieldwork/rules/visit_form.html", _rule_form_context(user, rule))


@page()
def patrol_rule_edit(request, pk=None):
    user = request.user
    _rules_perm(user, edit=True)
    rule = access.patrol_rule(pk) if pk else None
    if request.method == "POST":
        try:
            visit_rules.save_patrol_rule(user, rule, _rule_data(request.POST))
        except DomainError as e:
            raise_access(e)
            return render(request, "fieldwork/rules/patrol_form.html", _rule_form_context(user, rule, request.POST, e, kind="patrol"))
        messages.success(request, _("Patrol rule saved."))
        return redirect("fieldwork:rules")
    return render(request, "fieldwork/rules/patrol_form.html", _rule_form_context(user, rule, kind="patrol"))
