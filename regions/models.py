import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


class Level(models.IntegerChoices):
    CITY = 1, _("City")
    DISTRICT = 2, _("District")
    STREET = 3, _("Street")
    COMMUNITY = 4, _("Community")
    GRID = 5, _("Grid")


class Region(MP_Node):
    """A unit of the tree. `depth` equals `level` (the city is a root)."""

    steplen = 4

    level = models.PositiveSmallIntegerField(choices=Level.choices)
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    # Bounding box of the boundary, for point lookup before the exact polygon test.
    min_lng = models.FloatField(null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lng = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    valid_from = models.DateField(_("valid from"), default=dt.date(2000, 1, 1))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    successor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="predecessors"
    )

    class Meta:
        indexes = [
            models.Index(fields=["level", "min_lng", "min_lat"], name="region_bbox_idx"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.valid_to is None or self.valid_to > dt.date.today()

    @property
    def kind_label(self) -> str:
        """街道/镇/乡 for a street, 社区/村 for a community, from the official code."""
        c = self.code
        if self.level == Level.STREET and len(c) == 12:
            n = int(c[6:9])
            return str(_("Street office") if n < 100 else _("Town") if n < 200 else _("Township"))
        if self.level == Level.COMMUNITY and len(c) == 12:
            return str(_("Residents' committee") if int(c[9:12]) < 200 else _("Village committee"))
        return self.get_level_display()

    def ancestors_and_self(self):
        """Ancestors from the city down, then self, from the path (one query)."""
        paths = [self.path[: i * self.steplen] for i in range(1, self.depth + 1)]
        return list(Region.objects.filter(path__in=paths).order_by("depth"))

    def full_name(self, from_level: int = Level.STREET) -> str:
        return "".join(r.name for r in self.ancestors_and_self() if r.level >= from_level)
