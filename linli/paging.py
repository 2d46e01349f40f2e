"""Keyset pages: the one way lists are cut into pages, on pages and in the API.

A page holds at most `limit` rows and the cursor of the next (`next_after`, a plain row id), or
None on the last page. The cursor is an id, whatever the order, so a list that grows while a
person reads it neither repeats nor skips rows, and a page reads `limit + 1` index entries
however far down the list it is.
"""

from dataclasses import dataclass

from django.db.models import Q


@dataclass
class Page:
    items: list
    next_after: int | None

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def after_q(model, after: int, order: tuple[str, ...]) -> Q:
    """The rows after row `after` in `order`: ("id",), ("-id",), (field, "id") ascending or
    ("-field", "-id") descending (newest first)."""
    if order == ("id",) or order == ("pk",):
        return Q(pk__gt=after)
    if order == ("-id",) or order == ("-pk",):
        return Q(pk__lt=after)
    descending = order[0].startswith("-")
    field = order[0].lstrip("-")
    than = "lt" if descending else "gt"
    value = model.objects.filter(pk=after).values_list(field, flat=True).first()
    if value is None:
        return Q(**{f"pk__{than}": after})
    return Q(**{f"{field}__{than}": value}) | Q(**{field: value, f"pk__{than}": after})


def keyset(qs, *, after: int | None = None, limit: int = 50, order: tuple[str, ...] = ("id",), read=list) -> Page:
    """One page of `qs` in `order` (see after_q), starting after row `after`. `read` turns the
    sliced queryset into rows that have a `pk` (default: model objects; a list page may read
    plain values instead)."""
    if after:
        qs = qs.filter(after_q(qs.model, after, order))
    rows = read(qs.order_by(*order)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].pk if more and rows else None)
