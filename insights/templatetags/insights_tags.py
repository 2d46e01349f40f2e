from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def pct(value):
    """0.8765 → 87.7%; nothing to divide → —."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"


@register.filter
def score(value):
    return "—" if value is None else f"{value:.2f}"


@register.filter
def hours(value):
    """Hours as "1.5 h", or minutes under an hour."""
    if value is None:
        return "—"
    if value < 1:
        return _("%(n)s min") % {"n": f"{value * 60:.0f}"}
    return _("%(n)s h") % {"n": f"{value:.1f}"}


@register.filter
def figure(k, key):
    """A KPI of a ranking row, formatted for its kind."""
    v = k.get(key)
    return score(v) if key == "satisfaction" else pct(v)
