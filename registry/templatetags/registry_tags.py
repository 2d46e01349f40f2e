"""Small pieces shared by the registry pages: breadcrumbs along the tree, form fields, ages."""

import datetime as dt

from django import template
from django.urls import NoReverseMatch, reverse

from accounts.access import in_scope
from regions.models import Level

register = template.Library()


def _node_url(region) -> str:
    """The tree browser's page of a place, or a grid's buildings when the browser is absent."""
    try:
        return reverse("regions:node", args=[region.pk])
    except NoReverseMatch:
        if region.level == Level.GRID:
            return reverse("registry:building_list") + f"?region={region.pk}"
        return ""


@register.inclusion_tag("registry/_crumbs.html", takes_context=True)
def crumbs(context, regions, *tail):
    """Breadcrumbs: the places from the top of the user's area down, then `tail` items given as
    alternating (label, url) pairs; places above the user's area are not shown."""
    user = context["request"].user
    items = []
    for r in regions or []:
        if not in_scope(user, r.path):
            continue
        items.append({"label": r.name, "url": _node_url(r)})
    pairs = list(tail)
    for i in range(0, len(pairs) - 1, 2):
        items.append({"label": pairs[i], "url": pairs[i + 1]})
    if items:
        items[-1]["current"] = True
    return {"items": items}


@register.inclusion_tag("registry/_field.html")
def field(bound_field):
    return {"f": bound_field}


@register.filter
def age(resident):
    try:
        return resident.age()
    except Exception:
        return ""


@register.filter
def years_since(date):
    if not date:
        return ""
    today = dt.date.today()
    return today.year - date.year - ((today.month, today.day) < (date.month, date.day))


@register.filter
def unit_room(house):
    return f"{house.unit}单元{house.room}室"
