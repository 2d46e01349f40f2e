"""Resident search within the user's scope, with keyset pagination.

A query is read as: an ID number (15 or 18 characters, exact, through the blind index), a
phone number (exact, blind index), pinyin initials or full pinyin (prefix: `zs` finds 张三),
an address (`3号楼`, `3-2-301`, `3号楼2单元301`), or a name (prefix). Pages are keyset pages
(linli.paging) so the cost does not grow with the table.
"""

import re
from dataclasses import dataclass

from django.db.models import Q

from linli.db import prefix_q, scope_order
from linli.paging import keyset
from linli.pii import blind_index, clean_text

from .. import access
from ..models import Building, Resident, ResidentStatus, age_on
from ..services import idnumber

PAGE_SIZE = 50
_ADDRESS = re.compile(r"^(?:(?P<estate>\D*?))?(?P<b>\d+)(?:号楼|栋|幢|号|-)(?:(?P<u>\d+)(?:单元|-))?(?:(?P<r>\d+)室?)?$")


@dataclass
class Page:
    rows: list
    next_after: int | None
    query_kind: str


def classify(q: str) -> tuple[str, dict]:
    q = clean_text(q).replace(" ", "")
    if not q:
        return "all", {}
    upper = q.upper()
    if re.fullmatch(r"\d{17}[\dX]|\d{15}", upper):
        try:
            return "id_number", {"bidx": blind_index(idnumber.parse(upper).number, "id_number")}
        except Exception:
            return "id_number", {"bidx": blind_index(upper, "id_number")}
    digits = q.replace("-", "")
    if re.fullmatch(r"1[3-9]\d{9}|0\d{9,11}", digits):
        return "phone", {"bidx": blind_index(digits, "phone")}
    if re.fullmatch(r"[a-zA-Z]+", q):
        text = q.lower()
        # Letters without a vowel can only be initials (zs, wxm); with one, they begin a
        # full pinyin (zhang, lixiaoming). One column each way, so its index answers.
        field = "pinyin" if re.search(r"[aeiouv]", text) else "initials"
        return "pinyin", {"text": text, "field": field}
    m = _ADDRESS.match(q)
    if m:
        return "address", {k: v for k, v in m.groupdict().items() if v}
    return "name", {"text": q}


def address_q(params: dict, prefix: str) -> Q:
    """The parsed address (estate, building, unit, room) as a filter on the house at `prefix`."""
    q = Q(**{f"{prefix}building__number": params["b"]})
    if params.get("estate"):
        q &= Q(**{f"{prefix}building__estate__startswith": params["estate"]})
    if params.get("u"):
        q &= Q(**{f"{prefix}unit": int(params["u"])})
    if params.get("r"):
        q &= Q(**{f"{prefix}room": params["r"]})
    return q


def filter_residents(qs, q: str = "", *, tag: str = "", status: str = ResidentStatus.ACTIVE, region_path: str = ""):
    """Apply a search query and the list's filters to a resident queryset; returns (qs, kind,
    column): `column` is the resident column the text was matched on (name, initials, pinyin) or
    None. Shared by the list page, the API and the export so that all three select the same rows."""
    kind, params = classify(q)
    column = None
    if kind in ("id_number", "phone"):
        field = "id_number_bidx" if kind == "id_number" else "phone_bidx"
        qs = qs.filter(**{field: params["bidx"]})
    elif kind == "pinyin":
        column = _pinyin_field(params)
        qs = qs.filter(prefix_q(column, params["text"]))
    elif kind == "address":
        qs = qs.filter(address_q(params, "household__house__"))
    elif kind == "name":
        column = "name"
        qs = qs.filter(prefix_q(column, params["text"]))
    # An exact ID number or phone finds the person whatever their status (moved out, deceased).
    if kind not in ("id_number", "phone") and status:
        qs = qs.filter(status=status)
    if tag:
        qs = qs.filter(tags__tag__code=tag, tags__end_date__isnull=True)
    if region_path:
        qs = qs.filter(prefix_q("region_path", region_path))
    return qs, kind, column


def _pinyin_field(params: dict) -> str:
    """The column letters are matched against. Initials may hold a vowel too (欧阳 oy, 安 a):
    when no pinyin at all begins with the letters (an index-only check over the whole table,
    so it tells nothing of any area), they are read as initials."""
    field = params["field"]
    if field == "pinyin" and not Resident.objects.filter(prefix_q("pinyin", params["text"])).exists():
        return "initials"
    return field


def _wide(user, region_path: str) -> bool:
    """The search covers a street or more (paths of the street level or shorter)."""
    from accounts.access import scope_paths

    if region_path and len(region_path) > 3 * 4:
        return False
    return any(len(p) <= 3 * 4 for p in scope_paths(user))


# What a list row shows (registry.views.residents.resident_list), read as plain values: not the
# whole row (ciphertexts included), its place and its joins as model objects: four model
# instances per row were made and filled for a page of 50 (bench/NOTES.md has what it saved).
LIST_COLUMNS = (
    "id", "name", "gender", "birth_date", "id_number_masked", "phone_masked", "relation", "status", "household_id",
    "household__house__building__estate", "household__house__building__number", "household__house__unit",
    "household__house__room",
)


class ListRow:
    """One resident of a list page as plain values (LIST_COLUMNS), with the address as text."""

    __slots__ = ("pk", "name", "gender", "birth_date", "id_number_masked", "phone_masked", "relation", "status",
                 "household_id", "address", "open_tags", "html")

    def __init__(self, values: tuple):
        (self.pk, self.name, self.gender, self.birth_date, self.id_number_masked, self.phone_masked, self.relation,
         self.status, self.household_id, estate, number, unit, room) = values
        # The house as House.__str__ writes it: 幸福小区3号楼2单元301室.
        self.address = "" if self.household_id is None else f"{estate}{Building.label_of(number)}{unit}单元{room}室"

    def age(self, on) -> int:
        return age_on(self.birth_date, on)


def search_residents(user, q: str = "", *, tag: str = "", status: str = ResidentStatus.ACTIVE, region_path: str = "",
                     after: int | None = None, limit: int = PAGE_SIZE, columns: tuple[str, ...] | None = None) -> Page:
    """A page of the user's residents matching `q`; with `columns` (LIST_COLUMNS) the rows are
    ListRows read as plain values, else Resident objects."""
    base = access.residents(user)
    qs, kind, column = filter_residents(base, q, tag=tag, status=status, region_path=region_path)
    order = scope_order()
    if column and _wide(user, region_path):
        # A name or pinyin in a street or more: walking that column's index finds the matches at
        # once, where walking the scope index would read most of the area for a rare name.
        order = (column, "id")
    read = (lambda page: [ListRow(v) for v in page.values_list(*columns)]) if columns else list
    page = keyset(qs, after=after, limit=limit, order=order, read=read)
    return Page(page.items, page.next_after, kind)


def household_choices(user, near_path: str, hq: str, exclude=None) -> list[tuple[str, str]]:
    """Households of the user's area to move a person into: those at the address or of the head,
    estate or number `hq` names, else those of the grid at `near_path` (at most 300)."""
    qs = access.households(user).filter(dissolved_on__isnull=True)
    kind, params = classify(hq) if hq else ("none", {})
    if kind == "address":
        qs = qs.filter(address_q(params, "house__"))
    elif hq:
        qs = qs.filter(Q(head__name__startswith=hq) | Q(house__building__estate__startswith=hq) | Q(number=hq))
    elif near_path:
        qs = qs.filter(region_path=near_path)
    if exclude:
        qs = qs.exclude(pk=exclude)
    return [(str(hh.pk), str(hh)) for hh in qs.order_by("house__building__estate", "house__building__number", "house__unit", "house__room", "pk")[:300]]
