"""Schemas shared by several routers.

Nothing here carries a ciphertext or a blind index: personal numbers leave the server masked,
except through the reveal operation (which is logged).
"""

import datetime as dt

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


class Ok(Schema):
    ok: bool = True


class DatedNoteIn(Schema):
    """A dated event: `date` as 2024-05-01 (also 2024/5/1, 20240501); today when left out."""

    date: str | None = None
    note: str = ""


def iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
