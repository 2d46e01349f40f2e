"""KPIs from the cells of one place and period (DOMAIN.md): ratios are divided here, when shown,
so the stored numerators and denominators add up across the tree."""

from django.utils.translation import gettext_lazy as _

from workorders.models import Stage

STAGES = ("file", "dispatch", "handle", "verify")
STAGE_LABELS = dict(Stage.choices)

# key: (label, kind of figure, numerator-denominator description for the ranking rule)
RANKABLE = {
    "on_time_rate": _("On-time closure rate"),
    "closure_rate": _("Closure rate"),
    "rework_rate": _("Rework rate"),
    "extension_rate": _("Extension rate"),
    "satisfaction": _("Satisfaction"),
    "in_grid_rate": _("Settled in the grid"),
}
# Lower is better for these.
ASCENDING = {"rework_rate", "extension_rate"}


def _div(a, b):
    return a / b if b else None


def kpis(v: dict) -> dict:
    """`v` maps indicator → value for one cell; missing indicators count as 0."""
    g = lambda k: v.get(k, 0) or 0  # noqa: E731
    due = g("wo.due") - g("wo.suspended")
    out = {
        "received": int(g("wo.received")),
        "closed": int(g("wo.closed")),
        "due": int(due),
        "on_time_rate": _div(g("wo.closed_on_time"), due),
        "closure_rate": _div(g("wo.closed"), g("wo.received")),
        "rework_rate": _div(g("wo.reworked"), g("wo.closed")),
        "extension_rate": _div(g("wo.extended"), g("wo.closed")),
        "satisfaction": _div(g("wo.rating_sum"), g("wo.rated")),
        "in_grid_rate": _div(g("wo.settled_in_grid"), g("wo.closed")),
        "rated": int(g("wo.rated")),
        "open": int(g("wo.open")),
        "overdue_open": int(g("wo.overdue_open")),
        "stage_hours": {s: _div(g(f"wo.stage.{s}.sum") / 3600, g(f"wo.stage.{s}.count")) for s in STAGES},
    }
    # The number each KPI is taken over: the ranking minimum applies to it.
    out["basis"] = {
        "on_time_rate": out["due"],
        "closure_rate": out["received"],
        "rework_rate": out["closed"],
        "extension_rate": out["closed"],
        "satisfaction": out["rated"],
        "in_grid_rate": out["closed"],
    }
    return out
