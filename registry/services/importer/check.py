"""Checking a resident sheet's rows, without the database: each row becomes a plain tuple of clean
values (ID numbers and phones encrypted and indexed on the way) or the message the report gives
it. The checks are the forms' and the API's (registry.services: validators, idnumber, clean_person;
linli.pii), arranged for many rows; a big file is checked on every core by forked processes.
"""

from __future__ import annotations

import datetime as dt
import operator
import os
import re
from collections import defaultdict

from django.utils.translation import gettext

from linli import pii
from linli.errors import DomainError
from regions.models import Level, Region

from ...models import CareTag, Resident
from .. import clean_person, idnumber
from .. import validators as v
from ..pinyin import name_pinyin
from .headers import HEADER_LABELS
from .read import row_filled

# Rows between two reports of progress.
PROGRESS_EVERY = 1000
# Files with at least this many rows are checked on all CPU cores.
PARALLEL_MIN_ROWS = 20_000
# Processes that check a big file (and read its parts): LINLI_IMPORT_WORKERS, else one a core.
WORKERS = int(os.environ.get("LINLI_IMPORT_WORKERS", "0") or 0) or (os.cpu_count() or 1)

_SPLIT_TAGS = re.compile(r"[,，、;；/\s]+")


# Labels the export writes for groups of relations (so an exported sheet imports again).
_RELATION_LABELS = {"孙子女": "孙子", "外孙子女": "外孙", "祖父母": "祖父", "外祖父母": "外祖父", "儿媳/女婿": "儿媳",
                    "儿媳女婿": "儿媳", "子": "儿子", "之子": "儿子", "之女": "女儿", "妻子": "妻子", "其它": "其他"}


class RowError(Exception):
    def __init__(self, text: str):
        self.text = text


def _cell(value):
    """A cell as the validators expect it: integral floats become digit strings."""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


# ---------------------------------------------------------------- checking one row (no database)

class Context:
    """What row checks need, prefetched: grids in scope, tags, today. Plain data (fork-safe)."""

    def __init__(self, region: Region, mapping: dict[str, int], today: dt.date):
        self.mapping = mapping
        self.today = today
        grids = list(
            Region.objects.filter(path__startswith=region.path, level=Level.GRID, valid_to__isnull=True)
            .values_list("id", "code", "name", "path")
        )
        self.grid_paths = {g[0]: g[3] for g in grids}
        self.grid_names = {g[0]: g[2] for g in grids}
        self.by_code = {g[1]: g[0] for g in grids}
        by_name: dict[str, list[int]] = defaultdict(list)
        for gid, _code, name, _path in grids:
            by_name[pii.clean_text(name).replace(" ", "")].append(gid)
        self.by_name = dict(by_name)
        self.default_grid = region.id if region.level == Level.GRID else (grids[0][0] if len(grids) == 1 else None)
        tags = list(CareTag.objects.filter(active=True).values_list("id", "code", "name", "min_age", "max_age"))
        self.tag_lookup = {}
        self.age_tags = []
        for tid, code, name, lo, hi in tags:
            derived = lo is not None or hi is not None
            self.tag_lookup[code.lower()] = (tid, derived)
            self.tag_lookup[name.lower()] = (tid, derived)
            if derived:
                self.age_tags.append((tid, lo, hi))
        self.parse_birth = _birth(self)
        self.parse_grid = _grid(self)
        self.parse_tags = _tags(self)
        self.check = make_checker(self)


def _column_message(e: DomainError, column: str) -> str:
    text = e.text()
    # "身份证号：身份证号校验位不对" says the column twice; name it only when the message does not.
    return text if text.startswith(column) else f"{column}：{text}"


def _gender(raw):
    try:
        return v.parse_gender(_cell(raw), field="gender")
    except DomainError as e:
        raise RowError(_column_message(e, "性别"))


def _birth(ctx):
    def parse(raw):
        try:
            value = raw if isinstance(raw, (dt.date, int, float)) and not isinstance(raw, bool) else _cell(raw)
            return v.parse_date(value, field="birth_date", today=ctx.today)
        except DomainError as e:
            raise RowError(_column_message(e, "出生日期"))
    return parse


def _person(raws):
    person = {k: _cell(x) for k, x in zip(("ethnicity", "residence_type", "political_status"), raws, strict=True) if x not in (None, "")}
    if not person:
        return (None, None, None)
    try:
        person = clean_person(person, partial=True)
    except DomainError as e:
        raise RowError(_column_message(e, HEADER_LABELS.get(e.field, "")))
    return (person.get("ethnicity"), person.get("residence_type"), person.get("political_status"))


def _grid(ctx):
    def parse(raw):
        text = pii.clean_text(_cell(raw)).replace(" ", "")
        if not text:
            if ctx.default_grid is None:
                raise RowError(gettext("网格：missing; your area has several grids, so each row needs its grid."))
            return ctx.default_grid
        grid_id = ctx.by_code.get(text)
        if grid_id is None:
            ids = ctx.by_name.get(text, [])
            if len(ids) > 1:
                raise RowError(gettext("网格：several grids in your area are called %(v)s; write the grid code instead.") % {"v": text})
            if not ids:
                raise RowError(gettext("网格：%(v)s is not a grid in your area.") % {"v": text})
            grid_id = ids[0]
        return grid_id
    return parse


def _estate(raw):
    estate = pii.clean_text(_cell(raw))
    if not estate:
        raise RowError(gettext("小区：missing."))
    if len(estate) > 100:
        raise RowError(gettext("小区：at most 100 characters."))
    return estate


def _building(raw):
    building = pii.clean_text(_cell(raw)).replace(" ", "")
    for suffix in ("号楼", "栋", "幢", "号", "楼"):
        if building.endswith(suffix) and len(building) > len(suffix):
            building = building[: -len(suffix)]
            break
    if not building:
        raise RowError(gettext("楼栋：missing."))
    if len(building) > 20:
        raise RowError(gettext("楼栋：at most 20 characters."))
    return building


def _unit(raw):
    text = pii.clean_text(_cell(raw)).replace(" ", "").removesuffix("单元")
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 50:
        raise RowError(gettext("单元：%(v)s is not a unit number from 1 to 50.") % {"v": text})
    return int(text)


def _room(raw):
    room = pii.clean_text(_cell(raw)).replace(" ", "").removesuffix("室").removesuffix("号")
    if not room:
        raise RowError(gettext("房号：missing."))
    if len(room) > 20:
        raise RowError(gettext("房号：at most 20 characters."))
    return room


def _use(raw):
    if raw in (None, ""):
        return None
    try:
        return v.parse_house_use(_cell(raw), field="use")
    except DomainError as e:
        raise RowError(_column_message(e, "房屋用途"))


def _hh_number(raw):
    text = pii.clean_text(_cell(raw)).replace(" ", "")
    if len(text) > 30:
        raise RowError(gettext("户号：at most 30 characters."))
    return text


def _relation(raw):
    if raw in (None, ""):
        return None
    try:
        raw = _cell(raw)
        return v.parse_relation(_RELATION_LABELS.get(pii.clean_text(raw).replace(" ", ""), raw), field="relation")
    except DomainError as e:
        raise RowError(_column_message(e, "与户主关系"))


def _tags(ctx):
    def parse(raw):
        text = pii.clean_text(_cell(raw))
        found = []
        for part in _SPLIT_TAGS.split(text):
            if not part:
                continue
            hit = ctx.tag_lookup.get(part.lower())
            if hit is None:
                raise RowError(gettext("关爱标签：%(v)s is not a care tag we know.") % {"v": part})
            if not hit[1] and hit[0] not in found:  # age-derived tags follow the birth date
                found.append(hit[0])
        return tuple(found)
    return parse


class _Refused:
    """A remembered refusal of a repeated cell value."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


_MISS = object()
MEMO_LIMIT = 50_000


def _memo(fn):
    """fn(raw) for a column whose values repeat (grid, estate, relation...), remembered per file
    (successes and refusals alike)."""
    cache: dict = {}

    def parse(raw):
        try:
            hit = cache.get(raw, _MISS)
        except TypeError:  # an unhashable cell value
            return fn(raw)
        if hit is _MISS:
            try:
                hit = fn(raw)
            except RowError as e:
                hit = _Refused(e.text)
            if len(cache) < MEMO_LIMIT:
                cache[raw] = hit
        if hit.__class__ is _Refused:
            raise RowError(hit.text)
        return hit

    parse.cache = cache
    return parse


def _name(raw):
    try:
        name = v.parse_name(_cell(raw))
    except DomainError as e:
        raise RowError(_column_message(e, "姓名"))
    return (name, *name_pinyin(name))


def _id_number(today: dt.date):
    """The ID number check of registry.services.idnumber.parse, with a direct path for the common cell (18
    ASCII characters, nothing to clean); anything else goes through idnumber.parse itself, which
    also words the refusal. Returns (number, birth date, gender)."""
    provinces, check, weights, mul = idnumber.PROVINCES, idnumber.CHECK, idnumber.WEIGHTS, operator.mul
    # The check sum from the ASCII codes: each digit d is byte 48 + d, so Σ byte·w = Σ d·w + 48·Σ w.
    offset = 48 * sum(weights)
    births: dict[str, dt.date | None] = {}

    def birth_of(digits: str):
        d = births.get(digits, _MISS)
        if d is _MISS:
            try:
                d = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
            except ValueError:
                d = None
            if d is not None and (d > today or d.year < 1890):
                d = None
            if len(births) < MEMO_LIMIT:
                births[digits] = d
        return d

    def parse(raw):
        if raw.__class__ is str and len(raw) == 18 and raw.isascii():
            number = raw if raw[17] != "x" else raw[:17] + "X"
            body, last = number[:17], number[17]
            if body.isdigit() and (last == "X" or last.isdigit()) and number[:2] in provinces:
                birth = birth_of(number[6:14])
                if birth is not None and check[(sum(map(mul, body.encode(), weights)) - offset) % 11] == last:
                    return number, birth, ("M" if int(number[16]) % 2 else "F")
        if isinstance(raw, float) and raw >= 1e16:
            raise RowError(gettext("身份证号：the number was stored as a number by Excel and lost its last digits; format the column as text and type it again."))
        try:
            idn = idnumber.parse(_cell(raw), today=today)
        except DomainError as e:
            raise RowError(_column_message(e, "身份证号"))
        return idn.number, idn.birth_date, idn.gender

    return parse


def _phone(raw) -> str:
    if raw.__class__ is str and len(raw) == 11 and raw.isascii() and raw.isdigit() and raw[0] == "1" and raw[1] in "3456789":
        return raw
    try:
        return v.parse_phone(_cell(raw))
    except DomainError as e:
        raise RowError(_column_message(e, "联系电话"))


def make_checker(ctx: Context):
    """check(row) -> the clean tuple below, or raises RowError with the message for the report.

    The same checks as the forms and the API (registry.services: validators, idnumber; linli.pii),
    arranged for a file of many rows: the columns are located once, values that repeat in a
    file (grid, estate, building, unit, room, relation, gender, birth date, names...) are checked
    once, and a refusal's message is only worded for a refused row."""
    m = ctx.mapping
    width = max(m.values()) + 1
    c_name, c_id = m["name"], m["id_number"]
    c_gender, c_birth, c_phone = m.get("gender"), m.get("birth_date"), m.get("phone")
    c_person = (m.get("ethnicity"), m.get("residence_type"), m.get("political_status"))
    c_grid, c_estate, c_building, c_unit, c_room = m.get("grid"), m["estate"], m["building"], m.get("unit"), m["room"]
    c_use, c_hh, c_relation, c_tags, c_note = (m.get("use"), m.get("household_number"), m.get("relation"), m.get("tags"),
                                              m.get("note"))
    spare = width  # a column that is always empty: where a column the sheet lacks is read from
    name_of = _memo(_name)
    id_of = _id_number(ctx.today)
    gender_of = _memo(_gender)
    birth_of = _memo(ctx.parse_birth)
    person_of = _memo(_person)
    grid_of = _memo(ctx.parse_grid)
    estate_of = _memo(_estate)
    building_of = _memo(_building)
    unit_of = _memo(_unit)
    room_of = _memo(_room)
    use_of = _memo(_use)
    hh_of = _memo(_hh_number)
    relation_of = _memo(_relation)
    tags_of = _memo(ctx.parse_tags)
    bidx_id, bidx_phone = pii.blind_indexer("id_number"), pii.blind_indexer("phone")
    enc_id, enc_phone = pii.encryptor(Resident.AAD_ID), pii.encryptor(Resident.AAD_PHONE)
    mask_id, mask_phone = pii.mask_id_number, pii.mask_phone
    col = lambda c: spare if c is None else c  # noqa: E731
    c_gender, c_birth, c_phone, c_grid, c_unit, c_use, c_hh, c_relation, c_tags, c_note = map(
        col, (c_gender, c_birth, c_phone, c_grid, c_unit, c_use, c_hh, c_relation, c_tags, c_note))
    c_eth, c_res, c_pol = map(col, c_person)
    pad = [""] * (width + 1)
    person_get, grid_get, estate_get, building_get = (person_of.cache.get, grid_of.cache.get, estate_of.cache.get,
                                                      building_of.cache.get)
    unit_get, room_get, use_get, hh_get, relation_get = (unit_of.cache.get, room_of.cache.get, use_of.cache.get,
                                                         hh_of.cache.get, relation_of.cache.get)
    name_get = name_of.cache.get

    # check() runs once per row (100,000 times for a large sheet), so each column's cache lookup
    # is written out inline: a cache hit costs a dict.get, a miss calls the memoised parser.
    def check(row):
        if len(row) <= width:
            row = list(row) + pad[: width + 1 - len(row)]
        raw = row[c_name]
        x = name_get(raw, _MISS)
        name, py, initials = x if x is not _MISS and x.__class__ is not _Refused else name_of(raw)
        number, birth, gender = id_of(row[c_id])
        raw = row[c_gender]
        if raw is not None and raw != "":
            given = gender_of(raw)
            if given != gender:
                raise RowError(gettext("性别：%(given)s does not match the ID number (%(id)s).") % {
                    "given": "男" if given == "M" else "女", "id": "男" if gender == "M" else "女"})
        raw = row[c_birth]
        if raw is not None and raw != "":
            given = birth_of(raw)
            if given != birth:
                raise RowError(gettext("出生日期：%(given)s does not match the ID number (%(id)s).") % {
                    "given": given.isoformat(), "id": birth.isoformat()})
        raw = row[c_phone]
        if raw is not None and raw != "":
            phone = _phone(raw)
            phone_t = (bidx_phone(phone), enc_phone(phone), mask_phone(phone)) if phone else None
        else:
            phone_t = None
        # The repeating columns: a dictionary hit in line, the checker itself on a miss or a refusal.
        raw = (row[c_eth], row[c_res], row[c_pol])
        x = person_get(raw, _MISS)
        ethnicity, residence, political = x if x is not _MISS and x.__class__ is not _Refused else person_of(raw)
        raw = row[c_grid]
        grid_id = grid_get(raw, _MISS)
        if grid_id is _MISS or grid_id.__class__ is _Refused:
            grid_id = grid_of(raw)
        raw = row[c_estate]
        estate = estate_get(raw, _MISS)
        if estate is _MISS or estate.__class__ is _Refused:
            estate = estate_of(raw)
        raw = row[c_building]
        building = building_get(raw, _MISS)
        if building is _MISS or building.__class__ is _Refused:
            building = building_of(raw)
        raw = row[c_unit]
        unit = unit_get(raw, _MISS)
        if unit is _MISS or unit.__class__ is _Refused:
            unit = unit_of(raw)
        raw = row[c_room]
        room = room_get(raw, _MISS)
        if room is _MISS or room.__class__ is _Refused:
            room = room_of(raw)
        raw = row[c_use]
        use = use_get(raw, _MISS)
        if use is _MISS or use.__class__ is _Refused:
            use = use_of(raw)
        raw = row[c_hh]
        hh_number = hh_get(raw, _MISS)
        if hh_number is _MISS or hh_number.__class__ is _Refused:
            hh_number = hh_of(raw)
        raw = row[c_relation]
        relation = relation_get(raw, _MISS)
        if relation is _MISS or relation.__class__ is _Refused:
            relation = relation_of(raw)
        raw = row[c_tags]
        tag_ids = tags_of(raw) if raw is not None and raw != "" else ()
        raw = row[c_note]
        note = pii.clean_text(_cell(raw))[:500] if raw is not None and raw != "" else ""
        return (
            name, py, initials, bidx_id(number), enc_id(number), mask_id(number),
            gender, birth, phone_t, ethnicity, residence, political,
            grid_id, estate, building, unit, room, use, hh_number, relation, tag_ids, note,
        )

    return check


def check_row(row: list, ctx: Context):
    """A plain tuple of clean values, or raises RowError with the message for the report."""
    return ctx.check(row)


# Indexes into the tuple above.
(NAME, PINYIN, INITIALS, ID_BIDX, ID_ENC, ID_MASKED, GENDER, BIRTH, PHONE, ETHNICITY, RESIDENCE, POLITICAL, GRID,
 ESTATE, BUILDING, UNIT, ROOM, USE, HH_NUMBER, RELATION, TAGS, NOTE) = range(22)

# What the forked checkers inherit: the rows or the split sheet, the context, the header's row.
FORKED: dict = {}


def _check_range(bounds):
    start, end = bounds
    rows, check = FORKED["rows"], FORKED["ctx"].check
    out = []
    append = out.append
    for i in range(start, end):
        try:
            append(check(rows[i]))
        except RowError as e:
            append(e.text)
    return out


def read_part(k: int, progress=None) -> tuple[list[int], list]:
    """Read part k of the split sheet and check its rows: (sheet row numbers, checked), the
    header (rows up to FORKED["skip"]) and empty rows left out."""
    split, check, skip = FORKED["split"], FORKED["ctx"].check, FORKED["skip"]
    rownos: list[int] = []
    out: list = []
    for n, row in split.part(k):
        if n <= skip or not row_filled(row):
            continue
        rownos.append(n)
        try:
            out.append(check(row))
        except RowError as e:
            out.append(e.text)
        if progress and len(out) % PROGRESS_EVERY == 0:
            progress(len(out))
    return rownos, out


def check_all(rows: list[list], ctx: Context, progress) -> list:
    """Check every row; returns a list aligned with rows of tuples (good) or str (message).

    A big file is shared out: forked processes (they inherit the rows and the context, and send
    back the checked tuples) take the later shares while this process checks the first one, so
    no core waits."""
    n = len(rows)
    step = PROGRESS_EVERY
    workers = min(WORKERS, -(-n // step)) if n >= PARALLEL_MIN_ROWS else 1
    FORKED["rows"], FORKED["ctx"] = rows, ctx
    try:
        if workers <= 1:
            results: list = []
            for i in range(0, n, step):
                results.extend(_check_range((i, min(i + step, n))))
                progress(len(results))
            return results
        import multiprocessing

        share = -(-n // workers)
        own = [(i, min(i + step, share)) for i in range(0, share, step)]
        theirs = [(i, min(i + step, n)) for i in range(share, n, step)]
        results = [None] * n
        done = [0]

        def arrived(bounds):
            def put(part):
                results[bounds[0]:bounds[1]] = part
                done[0] += bounds[1] - bounds[0]
            return put

        with multiprocessing.get_context("fork").Pool(workers - 1) as pool:
            pending = [pool.apply_async(_check_range, (r,), callback=arrived(r)) for r in theirs]
            mine = 0
            for r in own:
                results[r[0]:r[1]] = _check_range(r)
                mine += r[1] - r[0]
                progress(mine + done[0])
            for job in pending:
                job.get()  # re-raises a failure in a checker
                progress(mine + done[0])
        return results
    finally:
        FORKED.clear()


def household_key(c: tuple) -> tuple:
    """The household a checked row names: grid, estate, building, unit, room, household number."""
    return (c[GRID], c[ESTATE], c[BUILDING], c[UNIT], c[ROOM], c[HH_NUMBER])
