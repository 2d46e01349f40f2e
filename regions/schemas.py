"""How other apps' API answers point at a place of the tree."""

from ninja import Schema


class RegionRef(Schema):
    """A place of the tree, as other rows point at it."""

    id: int
    name: str
    code: str
    level: int


def region_ref(region) -> dict | None:
    if region is None:
        return None
    return {"id": region.pk, "name": region.name, "code": region.code, "level": region.level}
