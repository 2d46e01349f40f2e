"""Figures that roll up the tree (DESIGN.md contract 5).

A Rollup row is one figure of one place in one period: (region, period, period_start,
indicator) → value. There is a row for every level (grid, community, street, district, city),
so a dashboard reads a handful of rows and never scans raw tables. Ratios are stored as their
numerator and denominator indicators and divided when shown, so they add up correctly.

Indicator names are namespaced by the app that writes them: `wo.*` work orders,
`med.*` mediation.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Period(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class Rollup(models.Model):
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="+")
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
        ]

    def __str__(self):
        return f"{self.region_id} {self.period} {self.period_start} {self.indicator}={self.value}"
