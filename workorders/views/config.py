"""Category administration pages: the tree, one category (details, attributes, SLA limits,
routing). City and district administrators change them; street officers may look.

Views parse input, call workorders/services/config.py, render. A DomainError becomes a form
error (the database is unchanged); a refused permission is a 403."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import assignments, in_scope
from linli.errors import DomainError, Forbidden
from linli.pages import page, raise_access, submit

from .. import access
from ..forms import AttributeForm, CategoryForm, NewCategoryForm, RoutingForm, SlaForm
from ..models import Category, Kind, Stage
from ..services import config
from ..services.sla import limit_minutes, minutes_per_working_day


def config_view(perm: str = "workorders.view_config"):
    return page(perm)


def duration(minutes, working: bool = False) -> str:
    """120 → "2 h", 4320 → "3 d", 90 → "1 h 30 min" (the limits as people say them); counted
    in working time, 1260 → "3 working days" (a working day being the calendar's hours)."""
    if minutes is None:
        return "—"
    per_day = minutes_per_working_day() if working else 24 * 60
    d, rest = divmod(int(minutes), per_day)
    h, m = divmod(rest, 60)
    parts = []
    if d:
        parts.append((_("%(n)s working d") if working else _("%(n)s d")) % {"n": d})
    if h:
        parts.append(_("%(n)s h") % {"n": h})
    if m or not parts:
        parts.append(_("%(n)s min") % {"n": m})
    return " ".join(parts)


def _tree_rows(categories, kind: str = "") -> list[dict]:
    children: dict = {}
    for c in categories:
        children.setdefault(c.parent_id, []).append(c)
    rows = []

    def walk(parent_id, depth, parent_active):
        for c in sorted(children.get(parent_id, []), key=lambda c: (c.sort, c.code)):
            if depth == 0 and kind and c.kind != kind:
                continue
            rows.append({"c": c, "depth": depth, "indent": depth * 1.25, "off": not c.active or not parent_active})
            walk(c.pk, depth + 1, parent_active and c.active)

    walk(None, 0, True)
    return rows


@config_view()
def category_list(request):
    kind = request.GET.get("kind", "")
    if kind not in Kind.values:
        kind = ""
    categories = access.category_list()
    counts = {k: 0 for k in Kind.values}
    for c in categories:
        if not c.is_group:
            counts[c.kind] += 1
    tabs = [{"key": "", "label": _("All"), "n": sum(counts.values())}] + [
        {"key": k, "label": label, "n": counts[k]} for k, label in Kind.choices
    ]
    return render(request, "workorders/config/category_list.html", {
        "rows": _tree_rows(categories, kind), "kind": kind, "tabs": tabs, "can_configure": config.can_configure(request.user),
    })


def _sla_table(category: Category) -> list[dict]:
    """Per stage: the limit in force today (own or inherited) and the category's own rules."""
    today = timezone.localdate()
    own = access.sla_rules(category)
    table = []
    for stage, label in Stage.choices:
        rules = [r for r in own if r.stage == stage]
        in_force = next((r for r in rules if r.valid_from <= today and (r.valid_to is None or r.valid_to > today)), None)
        for r in rules:
            r.state = "future" if r.valid_from > today else ("current" if r is in_force else "past")
            r.minutes_text = duration(r.minutes, category.working_hours)
            r.urgent_text = duration(r.urgent_minutes, category.working_hours) if r.urgent_minutes else "—"
        table.append({
            "stage": stage, "label": label, "rules": rules, "inherited": in_force is None,
            "minutes": duration(limit_minutes(category, stage, False, today), category.working_hours),
            "urgent": duration(limit_minutes(category, stage, True, today), category.working_hours),
        })
    return table


def _routing(category: Category, user) -> list[dict]:
    rows = []
    for r in access.routing_rules(category):
        may = config.can_configure(user) and (
            any(role == "city_admin" for role, _p, _i in assignments(user)) if r.region is None
            else in_scope(user, r.region.path, {"city_admin", "district_admin"})
        )
        rows.append({"rule": r, "may_delete": may})
    return rows


def _category_page(request, category, *, form=None, sla_form=None, routing_form=None, new_form=None, status=200):
    user = request.user
    can = config.can_configure(user)
    if form is None:
        form = CategoryForm(initial=CategoryForm.initial_for(category), category=category)
    if can and sla_form is None:
        sla_form = SlaForm(working=category.working_hours)
    if can and routing_form is None:
        routing_form = RoutingForm(user=user)
    if can and new_form is None and category.is_group:
        new_form = NewCategoryForm()
    inherited_from, inherited_rules = access.inherited_routing(category)
    ancestors = []
    node = category.parent
    while node is not None:
        ancestors.insert(0, node)
        node = node.parent
    return render(request, "workorders/config/category_detail.html", {
        "category": category,
        "ancestors": ancestors,
        "children": category.children.order_by("sort", "code"),
        "attributes": list(category.attributes.order_by("order", "id")),
        "sla": _sla_table(category),
        "routing": _routing(category, user),
        "inherited_from": inherited_from,
        "inherited_rules": inherited_rules,
        "form": form,
        "sla_form": sla_form,
        "routing_form": routing_form,
        "new_form": new_form,
        "can_configure": can,
        "open_orders": access.open_orders_of(category),
    }, status=status)


@config_view()
def category_detail(request, pk):
    category = access.category(pk)
    if request.method != "POST":
        return _category_page(request, category)
    if not config.can_configure(request.user):
        raise PermissionDenied
    form = CategoryForm(request.POST, category=category)
    if submit(form, lambda data: config.update_category(request.user, category, data)):
        messages.success(request, _("Changes saved."))
        return redirect("workorders:config_category", category.pk)
    return _category_page(request, category, form=form, status=400)


@config_view("workorders.configure")
@require_POST
def category_add(request, pk):
    parent = access.category(pk)
    form = NewCategoryForm(request.POST)
    added = submit(form, lambda data: config.create_category(request.user, parent, **data))
    if added:
        child = added.value
        messages.success(request, _("%(name)s added; it uses the group's limits and routing until it has its own.") % {"name": child.name})
        return redirect("workorders:config_category", child.pk)
    return _category_page(request, parent, new_form=form, status=400)


@config_view("workorders.configure")
def attribute_form(request, pk=None, category_pk=None):
    attribute = access.attribute(pk) if pk else None
    category = attribute.category if attribute else access.category(category_pk)
    if attribute is not None:
        initial = {"description": attribute.description, "datatype": attribute.datatype, "required": attribute.required,
                   "values": config.format_values(attribute.values)}
    else:
        initial = {}
    form = AttributeForm(request.POST or None, initial=initial, editing=attribute is not None)
    if request.method == "POST" and submit(form, lambda data: config.save_attribute(request.user, category, data, attribute)):
        messages.success(request, _("Question saved."))
        return redirect("workorders:config_category", category.pk)
    return render(request, "workorders/config/attribute_form.html", {"form": form, "category": category, "attribute": attribute},
                  status=400 if form.errors else 200)


@config_view("workorders.configure")
@require_POST
def attribute_move(request, pk):
    attribute = access.attribute(pk)
    config.move_attribute(request.user, attribute, up=request.POST.get("direction") == "up")
    return redirect("workorders:config_category", attribute.category_id)


@config_view("workorders.configure")
@require_POST
def attribute_delete(request, pk):
    attribute = access.attribute(pk)
    config.delete_attribute(request.user, attribute)
    messages.success(request, _("Question %(question)s removed; answers already given stay on their orders.") % {"question": attribute.description})
    return redirect("workorders:config_category", attribute.category_id)


@config_view("workorders.configure")
@require_POST
def sla_add(request, pk):
    category = access.category(pk)
    form = SlaForm(request.POST, working=category.working_hours)
    added = submit(form, lambda data: config.add_sla_rule(request.user, category, **data))
    if added:
        rule = added.value
        messages.success(request, _("New limit for %(stage)s from %(day)s saved; the earlier one stays in the history.") % {
            "stage": rule.get_stage_display(), "day": rule.valid_from.isoformat()})
        return redirect("workorders:config_category", category.pk)
    return _category_page(request, category, sla_form=form, status=400)


@config_view("workorders.configure")
@require_POST
def sla_delete(request, pk):
    rule = access.sla_rule(pk)
    try:
        config.delete_sla_rule(request.user, rule)
    except DomainError as e:
        raise_access(e)
        messages.error(request, e.text())
    else:
        messages.success(request, _("The planned limit was withdrawn."))
    return redirect("workorders:config_category", rule.category_id)


@config_view("workorders.configure")
@require_POST
def routing_add(request, pk):
    category = access.category(pk)
    form = RoutingForm(request.POST, user=request.user)
    if form.is_valid():
        region = access.routing_region(form.cleaned_data["region"])
        try:
            config.save_routing_rule(request.user, category, region=region, level=form.cleaned_data["level"],
                                     department=form.cleaned_data["department"])
        except DomainError as e:
            if isinstance(e, Forbidden):
                form.add_error("region", e.text())  # a place outside the user's area: said at the field, not a 403
            else:
                form.apply_error(e)
        else:
            messages.success(request, _("Routing saved."))
            return redirect("workorders:config_category", category.pk)
    return _category_page(request, category, routing_form=form, status=400)


@config_view("workorders.configure")
@require_POST
def routing_delete(request, pk):
    rule = access.routing_rule(pk)
    config.delete_routing_rule(request.user, rule)
    messages.success(request, _("Routing rule removed."))
    return redirect("workorders:config_category", rule.category_id)

