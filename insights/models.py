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


class FactFields(models.Model):
    """One work order as the rollups see it: its place (ancestors copied from its region path),
    the days it counts on, and its 0/1 contributions."""

    region_id = models.IntegerField()
    city_id = models.IntegerField(null=True)
    district_id = models.IntegerField(null=True)
    street_id = models.IntegerField(null=True)
    community_id = models.IntegerField(null=True)
    grid_id = models.IntegerField(null=True)
    kind = models.CharField(max_length=20)
    # The local days it counts on: reported (unless voided or a duplicate), closed, deadline.
    received_on = models.DateField(null=True)
    closed_on = models.DateField(null=True)
    due_on = models.DateField(null=True)
    on_time = models.SmallIntegerField(default=0)
    suspended = models.SmallIntegerField(default=0)
    reworked = models.SmallIntegerField(default=0)
    extended = models.SmallIntegerField(default=0)
    in_grid = models.SmallIntegerField(default=0)
    on_spot = models.SmallIntegerField(default=0)
    rated = models.SmallIntegerField(default=0)
    rating = models.SmallIntegerField(default=0)
    # Seconds spent in each stage (closed orders not settled on the spot).
    file_s = models.BigIntegerField(null=True)
    dispatch_s = models.BigIntegerField(null=True)
    handle_s = models.BigIntegerField(null=True)
    verify_s = models.BigIntegerField(null=True)
    # The deadline of an order still open (the overdue snapshot reads it).
    is_open = models.SmallIntegerField(default=0)
    open_deadline = models.DateTimeField(null=True)

    class Meta:
        abstract = True


class OrderFact(FactFields):
    """The fact row of one order, kept in step with WorkOrder by rollups.refresh() (nothing
    else writes it)."""

    order_id = models.BigIntegerField(primary_key=True)

    class Meta:
        indexes = [models.Index(fields=["is_open", "open_deadline"], name="orderfact_open_idx")]

    def __str__(self):
        return f"fact {self.order_id}"


class FactStage(FactFields):
    """Work table of refresh(): fresh facts of the orders changed since the watermark."""

    order_id = models.BigIntegerField(primary_key=True)

    def __str__(self):
        return f"staged fact {self.order_id}"


class FactDelta(FactFields):
    """Work table of refresh(): +1 rows (new facts) and -1 rows (the facts they replace)."""

    order_id = models.BigIntegerField()
    sign = models.SmallIntegerField()

    def __str__(self):
        return f"{self.sign:+d} fact {self.order_id}"


class CellDelta(models.Model):
    """Work table of refresh(): the change of every indicator in one cell."""

    level = models.PositiveSmallIntegerField()
    region_id = models.IntegerField()
    period = models.CharField(max_length=10)
    period_start = models.DateField()
    received = models.BigIntegerField(db_default=0)
    received_incident = models.BigIntegerField(db_default=0)
    received_demand = models.BigIntegerField(db_default=0)
    received_service = models.BigIntegerField(db_default=0)
    received_mediation = models.BigIntegerField(db_default=0)
    received_supervision = models.BigIntegerField(db_default=0)
    closed = models.BigIntegerField(db_default=0)
    reworked = models.BigIntegerField(db_default=0)
    extended = models.BigIntegerField(db_default=0)
    in_grid = models.BigIntegerField(db_default=0)
    on_spot = models.BigIntegerField(db_default=0)
    rated = models.BigIntegerField(db_default=0)
    rating_sum = models.BigIntegerField(db_default=0)
    file_sum = models.BigIntegerField(db_default=0)
    file_n = models.BigIntegerField(db_default=0)
    dispatch_sum = models.BigIntegerField(db_default=0)
    dispatch_n = models.BigIntegerField(db_default=0)
    handle_sum = models.BigIntegerField(db_default=0)
    handle_n = models.BigIntegerField(db_default=0)
    verify_sum = models.BigIntegerField(db_default=0)
    verify_n = models.BigIntegerField(db_default=0)
    due = models.BigIntegerField(db_default=0)
    suspended = models.BigIntegerField(db_default=0)
    on_time = models.BigIntegerField(db_default=0)

    def __str__(self):
        return f"{self.region_id} {self.period} {self.period_start}"


class Watermark(models.Model):
    """How far refresh() has read WorkOrder.updated_at. Advanced in the same transaction as
    the facts and cells it covers."""

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
