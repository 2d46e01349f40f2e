"""Field-work pieces other apps' pages show: a household's visit history (registry page)."""

from django import template

register = template.Library()

RECENT = 5


@register.inclusion_tag("fieldwork/visits/_history.html", takes_context=True)
def household_visits(context, household):
    """The household's latest visits the viewer may see (their scope), with a link to all."""
    from fieldwork import access
    from fieldwork.views.visits import visit_rows

    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    qs = access.visits(user).filter(household_id=household.pk)
    rows = visit_rows(access.listed(qs).order_by("-visited_at", "-id")[:RECENT])
    total = len(rows) if len(rows) < RECENT else qs.count()
    return {
        "household": household,
        "rows": rows,
        "total": total,
        "may_visit": household.dissolved_on is None and access.may_work_in(user, household.region_path),
    }
