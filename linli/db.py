"""Query helpers that behave the same, and use the indexes, on SQLite and PostgreSQL."""

from django.db import connection
from django.db.models import Q

# Above every character a path, name or pinyin can hold.
_TOP = chr(0x10FFFF)


def prefix_q(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, answered from the field's index.

    PostgreSQL's `LIKE 'p%'` uses the varchar_pattern_ops indexes. SQLite's LIKE is
    case-insensitive, so it cannot use a BINARY index and scans the table; a range on the
    byte-ordered (BINARY) column can, and selects the same rows.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + _TOP})
    return Q(**{f"{field}__startswith": prefix})


def scope_order() -> tuple[str, ...]:
    """The order of a resident list that its (region_path, id) index delivers without sorting
    (the column is byte-ordered on both databases, registry migration 0005): a page reads 51
    index entries however large the area."""
    return ("region_path", "id")


def after_q(model, after: int, order: tuple[str, ...] | None = None) -> Q:
    """Rows after row `after` in `order` (default scope_order()), a (field, id) or (id,)
    ordering; the keyset cursor stays a plain id."""
    order = order or scope_order()
    if order == ("id",):
        return Q(pk__gt=after)
    field = order[0]
    value = model.objects.filter(pk=after).values_list(field, flat=True).first()
    if value is None:
        return Q(pk__gt=after)
    return Q(**{f"{field}__gt": value}) | Q(**{field: value, "pk__gt": after})
