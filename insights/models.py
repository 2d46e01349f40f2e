"""Figures that roll up the tree (DESIGN.md contract 5).

A Rollup row is one figure of one place in one period: (region, period, period_start,
indicator) → value. There is a row for every level (grid, community, street, district, city),
so a dashboard reads a handful of rows and never scans raw tables. Ratios are stored as their
numerator and denominator indicators and divided when shown, so they add up correctly.

Indicator names are namespaced by the app that writes them (its figures.py): `wo.*` work
orders, `med.*` mediation, `fw.*` field work.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Period(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class Rollup(models.Model):
    # The unique cell constraint leads with region: no separate index to keep up on each upsert.
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+", db_index=False)
    region_path = models.CharField(max_length=255)
    level = models.PositiveSmallIntegerField()
    period = models.CharField(max_length=10, choices=Period.choices)
    period_start = models.DateField()
    indicator = models.CharField(max_length=50)
    value = models.FloatField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "period", "period_start", "indicator"], name="rollup_cell_unique"),
        ]
        indexes = [
            models.Index(
                fields=["region_path", "level", "period", "period_start"],
                name="rollup_children_idx",
                opclasses=["varchar_pattern_ops", "", "", ""],
            ),
            # Only the snapshot rows, which every refresh replaces.
            models.Index(
                fields=["period_start"], name="rollup_snapshot_idx", condition=models.Q(indicator__in=["wo.open", "wo.overdue_open"])
            ),
        ]

    def __str__(self):
        return f"{self.region_id} {self.period} {self.period_start} {self.indicator}={self.value}"


class Watermark(models.Model):
    """How far an app's figures refresh has read its rows (by name: "wo" for work orders).
    Advanced in the same transaction as the facts and cells it covers."""

    name = models.CharField(max_length=40, unique=True)
    value = models.DateTimeField()

    def __str__(self):
        return f"{self.name} @ {self.value:%Y-%m-%d %H:%M:%S}"


class RankingRule(models.Model):
    """The least number of orders (the indicator's denominator) a unit needs in a period before
    it is ranked. `indicator` is a ranking key (e.g. on_time_rate) or '*' for all. The newest
    rule valid on the period's last day wins; a rule for the indicator beats '*'."""

    indicator = models.CharField(_("indicator"), max_length=40, default="*")
    min_orders = models.PositiveIntegerField(_("minimum orders"))
    valid_from = models.DateField(_("valid from"))

    class Meta:
        ordering = ["indicator", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["indicator", "valid_from"], name="ranking_rule_unique")]
        verbose_name = _("ranking rule")
        verbose_name_plural = _("ranking rules")

    def __str__(self):
        return f"{self.indicator} ≥ {self.min_orders} ({self.valid_from})"
