"""Resolving the checked rows against the registry, in memory: duplicates inside the file, the
residents already registered (by blind index), the buildings, houses and households the rows
name, one head per household, and what changes for each known person. The statuses it gives are
the report's words."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection
from django.utils.translation import gettext

from ...models import (
    Building,
    House,
    Household,
    ImportJob,
    Relation,
    Resident,
    ResidentStatus,
    ResidentTag,
)
from .check import (
    BUILDING,
    ESTATE,
    ETHNICITY,
    GRID,
    ID_BIDX,
    NAME,
    PHONE,
    POLITICAL,
    RELATION,
    RESIDENCE,
    TAGS,
    Context,
    household_key,
)
from .write import PlanWriter

REPORT_NEW = "新增"
REPORT_UPDATED = "更新"
REPORT_UNCHANGED = "无变化"
REPORT_ERROR = "错误："
REPORT_ROLLED_BACK = "未导入（整批回滚）"


class Plan(PlanWriter):
    """Everything the write step does, worked out in memory first: resolve() here, write() in
    write.py (PlanWriter)."""

    def __init__(self, job: ImportJob, ctx: Context, today: dt.date, made: dict | None = None):
        self.job = job
        self.ctx = ctx
        self.today = today
        self.actor_id = job.created_by_id
        # Ids of the buildings, houses and households earlier batches of this import made
        # (job._write_while_checking); they are completed without an audit entry, and the ids this
        # batch makes are added.
        self.made = made if made is not None else {"buildings": set(), "houses": set(), "households": set()}

    # -------------------------------------------------------- resolve
    def resolve(self, rownos: list[int], checked: list) -> list[str]:
        n = len(checked)
        status = [""] * n
        for i, c in enumerate(checked):
            if isinstance(c, str):
                status[i] = REPORT_ERROR + c
        # Duplicates inside the file.
        first_row: dict[str, int] = {}
        for i, c in enumerate(checked):
            if status[i]:
                continue
            seen = first_row.get(c[ID_BIDX])
            if seen is not None:
                status[i] = REPORT_ERROR + gettext("身份证号：the same ID number is already in row %(row)s.") % {"row": rownos[seen]}
            else:
                first_row[c[ID_BIDX]] = i
        # Existing residents, by blind index.
        existing: dict[str, dict] = {}
        fields = ["id", "id_number_bidx", "name", "phone_bidx", "phone_masked", "ethnicity", "residence_type",
                  "political_status", "household_id", "relation", "status", "region_id", "region_path"]
        for r in _rows_by_key(Resident, fields, "id_number_bidx", first_row.keys()):
            existing[r["id_number_bidx"]] = r
        for i, c in enumerate(checked):
            if status[i]:
                continue
            r = existing.get(c[ID_BIDX])
            if r is None:
                continue
            if not r["region_path"].startswith(self.job.region_path):
                status[i] = REPORT_ERROR + gettext(
                    "身份证号：this person is registered in another area; that area must record the move out first.")
            elif r["status"] == ResidentStatus.DECEASED:
                status[i] = REPORT_ERROR + gettext("身份证号：this person is recorded as deceased.")
        # Places known in the grids the file names.
        grid_ids = {c[GRID] for i, c in enumerate(checked) if not status[i]}
        named = {(c[GRID], c[ESTATE], c[BUILDING]) for i, c in enumerate(checked) if not status[i]}
        self.buildings: dict[tuple, dict] = {}
        for b in Building.objects.filter(region_id__in=grid_ids).values("id", "region_id", "estate", "number", "units"):
            self.buildings[(b["region_id"], b["estate"], b["number"])] = b
        self.houses: dict[tuple, dict] = {}
        house_ids = []
        if self.buildings:
            # Houses (and their households) only of the buildings the file names, not of every
            # building in its grids.
            for h in _rows_by_key(House, ["id", "building_id", "unit", "room", "use"], "building_id",
                                  [b["id"] for key, b in self.buildings.items() if key in named]):
                self.houses[(h["building_id"], h["unit"], h["room"])] = h
                house_ids.append(h["id"])
        self.households: dict[tuple, dict] = {}
        by_house: dict[int, list] = defaultdict(list)
        # In id order: the first open household of a house and number is the one a row joins.
        for hh in _rows_by_key(Household, ["id", "house_id", "number", "head_id", "region_id", "region_path"],
                               "house_id", house_ids, also=' AND "dissolved_on" IS NULL'):
            by_house[hh["house_id"]].append(hh)
            self.households.setdefault((hh["house_id"], hh["number"]), hh)
        # A file without 户号 means one household per house: take the house's only household.
        for house_id, hhs in by_house.items():
            if (house_id, "") not in self.households and len(hhs) == 1:
                self.households[(house_id, "")] = hhs[0]
        # Current heads of the households concerned, and who lives where now.
        heads = {hh["head_id"] for hh in self.households.values() if hh["head_id"]}
        head_rows = {r["id"]: r for r in _rows_by_key(Resident, ["id", "name", "household_id", "id_number_bidx", "status"],
                                                      "id", list(heads))}
        # Group rows into households.
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, c in enumerate(checked):
            if not status[i]:
                groups[household_key(c)].append(i)
        in_file = {c[ID_BIDX]: i for i, c in enumerate(checked) if not status[i]}
        relation_of = {}
        for key, members in groups.items():
            heads_here = [i for i in members if checked[i][RELATION] == Relation.HEAD]
            unset = [i for i in members if checked[i][RELATION] is None]
            if not heads_here and len(members) == 1 and unset:
                heads_here = unset  # one person alone is the head
            db_hh = self._existing_household(key)
            db_head = head_rows.get(db_hh["head_id"]) if db_hh and db_hh["head_id"] else None
            if db_head and (db_head["household_id"] != db_hh["id"] or db_head["status"] != ResidentStatus.ACTIVE):
                db_head = None
            # The current head stays head unless the file says otherwise about them.
            db_head_stays = db_head is not None and db_head["id_number_bidx"] not in in_file
            if heads_here and heads_here == unset and db_head_stays:
                heads_here = []
            for i in members:
                relation_of[i] = checked[i][RELATION]
            for i in heads_here:
                relation_of[i] = Relation.HEAD
            if len(heads_here) > 1:
                for i in heads_here[1:]:
                    status[i] = REPORT_ERROR + gettext("与户主关系：this household already has a head (户主) in row %(row)s.") % {
                        "row": rownos[heads_here[0]]}
                heads_here = heads_here[:1]
            if heads_here and db_head_stays:
                i = heads_here[0]
                status[i] = REPORT_ERROR + gettext("与户主关系：this household already has a head, %(name)s.") % {"name": db_head["name"]}
                heads_here = []
            if not heads_here and not db_head_stays:
                for i in members:
                    if not status[i]:
                        status[i] = REPORT_ERROR + gettext(
                            "与户主关系：the household at %(place)s has no head (户主); mark one person as 户主.") % {
                            "place": self._place_label(key)}
                continue
            for i in members:
                if not status[i] and relation_of[i] is None:
                    status[i] = REPORT_ERROR + gettext("与户主关系：missing; the household has more than one person.")
        # In valid_rows mode a refused head leaves the rest of the household without one.
        changed = True
        while changed:
            changed = False
            for key, members in groups.items():
                live = [i for i in members if not status[i]]
                if not live:
                    continue
                if any(relation_of[i] == Relation.HEAD for i in live):
                    continue
                db_hh = self._existing_household(key)
                db_head = head_rows.get(db_hh["head_id"]) if db_hh and db_hh["head_id"] else None
                if db_head and db_head["household_id"] == db_hh["id"] and db_head["id_number_bidx"] not in in_file:
                    continue
                for i in live:
                    status[i] = REPORT_ERROR + gettext(
                        "与户主关系：the household at %(place)s has no head (户主); mark one person as 户主.") % {
                        "place": self._place_label(key)}
                changed = True
        # What each good row does.
        self.rows = []  # (index, checked tuple, relation, existing resident or None)
        plain = {m: m.value for m in Relation}  # relations as plain strings (see write._insert)
        for i, c in enumerate(checked):
            if status[i]:
                continue
            r = existing.get(c[ID_BIDX])
            self.rows.append((i, c, plain.get(relation_of[i], relation_of[i]), r))
            status[i] = REPORT_NEW if r is None else "?"
        self.groups = groups
        self.status = status
        self._diff()
        return self.status

    def _existing_household(self, key):
        grid_id, estate, number, unit, room, hh_number = key
        b = self.buildings.get((grid_id, estate, number))
        if b is None:
            return None
        h = self.houses.get((b["id"], unit, room))
        if h is None:
            return None
        return self.households.get((h["id"], hh_number))

    def _place_label(self, key) -> str:
        grid_id, estate, number, unit, room, hh_number = key
        label = f"{estate}{number}{'号楼' if number.isdigit() else ''}{unit}单元{room}室"
        return label + (f"（户号 {hh_number}）" if hh_number else "")

    def _diff(self):
        """For existing residents: what changes (for the report and the audit log)."""
        self.changes = {}
        self.open_tags: dict[int, set] = defaultdict(set)
        existing_ids = [r["id"] for _i, _c, _rel, r in self.rows if r is not None]
        for part in _chunks(existing_ids, 2000):
            for res_id, tag_id in ResidentTag.objects.filter(resident_id__in=part, end_date__isnull=True).values_list(
                    "resident_id", "tag_id"):
                self.open_tags[res_id].add(tag_id)
        for i, c, relation, r in self.rows:
            if r is None:
                continue
            ch = {}
            if c[NAME] != r["name"]:
                ch["name"] = [r["name"], c[NAME]]
            if c[PHONE] is not None and c[PHONE][0] != r["phone_bidx"]:
                ch["phone_masked"] = [r["phone_masked"], c[PHONE][2]]
            for idx, field in ((ETHNICITY, "ethnicity"), (RESIDENCE, "residence_type"), (POLITICAL, "political_status")):
                if c[idx] is not None and c[idx] != r[field]:
                    ch[field] = [r[field], c[idx]]
            if relation != r["relation"]:
                ch["relation"] = [r["relation"], relation]
            target = self._existing_household(household_key(c))
            if target is None or target["id"] != r["household_id"] or r["status"] != ResidentStatus.ACTIVE:
                ch["household"] = [r["household_id"], None if target is None else target["id"]]
            if r["status"] != ResidentStatus.ACTIVE:
                ch["status"] = [r["status"], ResidentStatus.ACTIVE]
            self.changes[i] = ch
            new_tags = set(c[TAGS]) - self.open_tags.get(r["id"], set())
            self.status[i] = REPORT_UPDATED if (ch or new_tags) else REPORT_UNCHANGED


def _rows_by_key(model, columns: list[str], key: str, values, also: str = "") -> list[dict]:
    """The rows whose `key` is one of `values` (and `also`, SQL), as dicts of `columns`, in id
    order within each part. One statement on PostgreSQL (= ANY of an array), parts of 2,000 on
    SQLite; plain SQL, because the ORM prepares each value of an `__in` lookup on its own, which
    for a big file's ID numbers takes longer than the query."""
    table = model._meta.db_table
    col_sql = ", ".join(f'"{c}"' for c in columns)
    out = []
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute(f'SELECT {col_sql} FROM "{table}" WHERE "{key}" = ANY(%s){also} ORDER BY "id"', [list(values)])
            out.extend(dict(zip(columns, row, strict=True)) for row in c.fetchall())
        else:
            for part in _chunks(values, 2000):
                c.execute(f'SELECT {col_sql} FROM "{table}" WHERE "{key}" IN ({", ".join(["%s"] * len(part))}){also} '
                          'ORDER BY "id"', part)
                out.extend(dict(zip(columns, row, strict=True)) for row in c.fetchall())
    return out


def _chunks(seq, n=2000):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i:i + n]
