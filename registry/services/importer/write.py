"""Writing a resolved plan: buildings, houses, households, residents, memberships, events, care tags
and the audit log, in bulk (COPY on PostgreSQL, fifty rows a statement on SQLite) with ids
allocated up front; and, for the streamed write on PostgreSQL, the foreign keys of the new rows
checked once per key (KeysCheckedOnce)."""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection
from django.utils import timezone

from ...models import (
    Building,
    EventKind,
    House,
    Household,
    HouseholdMembership,
    Relation,
    Resident,
    ResidentEvent,
    ResidentStatus,
    ResidentTag,
)
from .check import (
    BIRTH,
    BUILDING,
    ESTATE,
    ETHNICITY,
    GENDER,
    GRID,
    HH_NUMBER,
    ID_BIDX,
    ID_ENC,
    ID_MASKED,
    INITIALS,
    NAME,
    NOTE,
    PHONE,
    PINYIN,
    POLITICAL,
    RESIDENCE,
    ROOM,
    TAGS,
    UNIT,
    USE,
    household_key,
)

# Whether PostgreSQL's streamed write may check its foreign keys itself (see KeysCheckedOnce).
CHECK_KEYS_ONCE = True
_MAX_ID = 2**63 - 1


class KeysCheckedOnce:
    """PostgreSQL, streamed write: the foreign keys of the rows written are checked once per key
    over all those rows, instead of by a trigger per row and key at the commit.

    A 100,000-row import writes about a million key references (a resident names its grid and
    household; a membership, an event and a tag name their resident...). Each trigger check is a
    query of its own, run one after another in the one server process at the commit, with one
    core idle. Here the session sets session_replication_role = replica while
    the batches are written, which PostgreSQL allows a superuser or a role granted SET on that
    parameter (PostgreSQL 15+) and nobody else; then, for each foreign key of each table written,
    three statements over the rows above the table's highest id at the start: the distinct values
    named; the rows that were there before among them, locked FOR KEY SHARE as the triggers lock
    them (nobody may delete them before the commit); and the rows this import made among them. A
    value without a row raises IntegrityError, which undoes the import. Unique and check
    constraints are indexes and expressions, not triggers, and hold as always. Every other write
    (the one-step path, an import that falls back to it, a role that may not) keeps the triggers."""

    MODELS = ("Building", "House", "Household", "Resident", "HouseholdMembership", "ResidentEvent", "ResidentTag")

    def __init__(self):
        from django.apps import apps

        self.models = [apps.get_model("registry", name) for name in self.MODELS]
        self.floor: dict = {}

    @staticmethod
    def allowed() -> bool:
        if not CHECK_KEYS_ONCE or connection.vendor != "postgresql":
            return False
        with connection.cursor() as c:
            if connection.pg_version >= 150000:
                c.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
            else:
                c.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = c.fetchone()
        return bool(row and row[0])

    def start(self):
        """Inside the transaction, before the first batch: the highest id of each table now
        (rows above it are this import's), then the triggers off for this transaction."""
        with connection.cursor() as c:
            for m in self.models:
                c.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{m._meta.db_table}"')
                self.floor[m] = c.fetchone()[0]
            c.execute("SET LOCAL session_replication_role = replica")

    def finish(self):
        """After the last batch: the triggers on again, then every key of the new rows checked."""
        with connection.cursor() as c:
            c.execute("SET LOCAL session_replication_role = origin")
            for m in self.models:
                table = m._meta.db_table
                for f in m._meta.concrete_fields:
                    if not f.is_relation or not f.many_to_one:
                        continue
                    parent = f.related_model
                    p_table, p_col = parent._meta.db_table, f.target_field.column
                    pf = self.floor.get(parent, _MAX_ID)  # rows of the parent above it are this import's
                    new = f'SELECT "{f.column}" FROM "{table}" WHERE "id" > %s AND "{f.column}" IS NOT NULL'
                    c.execute(f'SELECT count(DISTINCT "{f.column}") FILTER (WHERE "{f.column}" <= %s), '
                              f'count(DISTINCT "{f.column}") FILTER (WHERE "{f.column}" > %s) '
                              f'FROM "{table}" WHERE "id" > %s', [pf, pf, self.floor[m]])
                    old, made = c.fetchone()
                    # The rows referenced that were there before are locked, as the triggers
                    # lock them (nobody may delete them before the commit); the ones this import
                    # made cannot be seen, let alone deleted, by anyone else.
                    c.execute(f'SELECT count(*) FROM (SELECT 1 FROM "{p_table}" p WHERE p."{p_col}" IN '
                              f'({new} AND "{f.column}" <= %s) FOR KEY SHARE OF p) AS x', [self.floor[m], pf])
                    found = c.fetchone()[0]
                    if made:
                        c.execute(f'SELECT count(*) FROM "{p_table}" p WHERE p."{p_col}" > %s AND p."{p_col}" IN '
                                  f'({new} AND "{f.column}" > %s)', [pf, self.floor[m], pf])
                        found += c.fetchone()[0]
                    if found != old + made:
                        raise IntegrityError(
                            f'insert or update on table "{table}" violates foreign key on "{f.column}": '
                            f'{old + made - found} values are not present in table "{p_table}"')


# ---------------------------------------------------------------- bulk SQL

def _columns(model, names):
    return [model._meta.get_field(n).column for n in names]


def _alloc_ids(model, n: int) -> list[int]:
    if n == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            # n values from the sequence. They are almost always one run (nobody else drew in
            # between), so ask for the run's ends rather than n rows, and name the sequence once
            # rather than per value; a broken run is fetched whole.
            c.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            seq = c.fetchone()[0]
            c.execute("SELECT min(v), max(v) FROM (SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)) AS s",
                      [seq, n])
            low, high = c.fetchone()
            if high - low + 1 == n:
                return list(range(low, high + 1))
            c.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [seq, n])
            return [r[0] for r in c.fetchall()]
        c.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')
        top = c.fetchone()[0]
        try:
            c.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = c.fetchone()
            if row and row[0] and row[0] > top:
                top = row[0]
        except Exception:  # no AUTOINCREMENT table yet
            pass
    return list(range(top + 1, top + 1 + n))


# Rows a statement of _insert on SQLite (at most 22 columns: 1,100 values, within SQLite's 32,766).
ROWS_PER_INSERT = 50


def _insert(model, names: list[str], rows: list[tuple]):
    if not rows:
        return
    table = model._meta.db_table
    cols = _columns(model, names)
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            col_sql = ", ".join(f'"{x}"' for x in cols)
            with connection.wrap_database_errors, c.cursor.copy(f'COPY "{table}" ({col_sql}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # Rows come with dates and times already in the database's form and enum members as
            # plain strings (see Plan.write), so they go to sqlite3 itself: Django's cursor
            # rewrites the statement and re-iterates the rows, and sqlite3 adapts a str subclass
            # more slowly than a str.
            # ROWS_PER_INSERT rows a statement, OR FAIL: a statement that may abort half way keeps
            # a copy of every page it changes to undo itself (its statement journal, on disk past
            # 64 KiB), and one row a statement pays the statement's own costs per row. A failed
            # statement fails the import, whose transaction is then rolled back whole, so what
            # the statement wrote before failing never stays.
            col_sql = ", ".join(f'"{x}"' for x in cols)
            one = "(" + ", ".join(["?"] * len(cols)) + ")"
            head = f'INSERT OR FAIL INTO "{table}" ({col_sql}) VALUES '
            raw = connection.connection
            k, width = ROWS_PER_INSERT, ROWS_PER_INSERT * len(cols)
            whole = len(rows) - len(rows) % k
            with connection.wrap_database_errors:  # the driver's errors as Django's, as through a cursor
                if whole:
                    flat = list(itertools.chain.from_iterable(rows[:whole]))
                    raw.executemany(head + ", ".join([one] * k), (flat[i:i + width] for i in range(0, len(flat), width)))
                if whole < len(rows):
                    raw.executemany(head + one, rows[whole:])


def _update(model, set_names: list[str], rows: list[tuple], where: str = "id", open_only: bool = False):
    """rows: (value..., key) executed as UPDATE ... SET a=%s, b=%s WHERE where=%s."""
    if not rows:
        return
    table = model._meta.db_table
    cols = _columns(model, set_names)
    sets = ", ".join(f'"{c}" = %s' for c in cols)
    sql = f'UPDATE "{table}" SET {sets} WHERE "{where}" = %s' + (' AND "end_date" IS NULL' if open_only else "")
    if connection.vendor != "postgresql":
        ops = connection.ops
        rows = [tuple(ops.adapt_datefield_value(x) if isinstance(x, dt.date) and not isinstance(x, dt.datetime)
                      else ops.adapt_datetimefield_value(x) if isinstance(x, dt.datetime) else x for x in r) for r in rows]
    with connection.cursor() as c:
        c.executemany(sql, rows)


class PlanWriter:
    """The write step of a Plan (plan.py): every row it resolved, written in bulk."""

    def write(self):
        now_obj = timezone.now()
        if connection.vendor == "postgresql":
            now, today, day = now_obj, self.today, (lambda d: d)
        else:  # SQLite takes ISO text; adapt once rather than per row
            now, today, day = connection.ops.adapt_datetimefield_value(now_obj), self.today.isoformat(), dt.date.isoformat
        ctx = self.ctx
        actor_id = self.actor_id
        active, registered = ResidentStatus.ACTIVE.value, EventKind.REGISTERED.value  # plain strings (see _insert)
        logs = []  # (model, pk, repr, changes)
        # Buildings.
        new_b = {}
        max_unit: dict[tuple, int] = defaultdict(int)
        for _i, c, _relation, _r in self.rows:
            bkey = (c[GRID], c[ESTATE], c[BUILDING])
            max_unit[bkey] = max(max_unit[bkey], c[UNIT])
        for bkey, units in max_unit.items():
            b = self.buildings.get(bkey)
            if b is None:
                grid_id, estate, number = bkey
                obj = Building(estate=estate, number=number, units=units, region_id=grid_id, region_path=ctx.grid_paths[grid_id])
                new_b[bkey] = obj
            elif b["units"] < units:
                if b["id"] not in self.made["buildings"]:
                    logs.append((Building, b["id"], f"{b['estate']}{b['number']}", {"units": [str(b["units"]), str(units)]}))
                Building.objects.filter(pk=b["id"]).update(units=units)
                b["units"] = units
        if new_b:
            Building.objects.bulk_create(list(new_b.values()), batch_size=500)
            for bkey, obj in new_b.items():
                self.buildings[bkey] = {"id": obj.pk, "region_id": obj.region_id, "estate": obj.estate,
                                        "number": obj.number, "units": obj.units}
                self.made["buildings"].add(obj.pk)
        # Houses.
        new_h = {}
        use_updates = []
        for _i, c, _relation, _r in self.rows:
            b = self.buildings[(c[GRID], c[ESTATE], c[BUILDING])]
            hkey = (b["id"], c[UNIT], c[ROOM])
            h = self.houses.get(hkey)
            if h is None:
                if hkey not in new_h:
                    new_h[hkey] = [c[GRID], c[USE] or "owner"]
                elif c[USE]:
                    new_h[hkey][1] = c[USE]
            elif c[USE] and c[USE] != h["use"]:
                if h["id"] not in self.made["houses"]:
                    logs.append((House, h["id"], f"{c[ESTATE]}{c[BUILDING]}-{c[UNIT]}-{c[ROOM]}", {"use": [h["use"], c[USE]]}))
                use_updates.append((c[USE], h["id"]))
                h["use"] = c[USE]
        ids = _alloc_ids(House, len(new_h))
        house_rows = []
        for pk, (hkey, (grid_id, use)) in zip(ids, new_h.items(), strict=True):
            b_id, unit, room = hkey
            floor = int(room[:-2]) if room.isdigit() and len(room) >= 3 and int(room[:-2]) < 32000 else None
            house_rows.append((pk, grid_id, ctx.grid_paths[grid_id], b_id, unit, room, floor, use))
            self.houses[hkey] = {"id": pk, "building_id": b_id, "unit": unit, "room": room, "use": use}
            self.made["houses"].add(pk)
        _insert(House, ["id", "region", "region_path", "building", "unit", "room", "floor", "use"], house_rows)
        _update(House, ["use"], use_updates)
        # Residents: ids for the new ones first (households point at their heads).
        # New residents take their ids in pinyin order: the table, its pinyin index and much of
        # its initials index are then written page after page instead of at random places, and
        # so are the resident indexes of memberships, events and tags, written in the same order
        # (bench/NOTES.md has what it saved on both databases).
        new_rows = sorted((t for t in self.rows if t[3] is None), key=lambda t: t[1][PINYIN])
        new_ids = _alloc_ids(Resident, len(new_rows))
        rid = {}
        for pk, (i, _c, _relation, _r) in zip(new_ids, new_rows, strict=True):
            rid[i] = pk
        for i, _c, _relation, r in self.rows:
            if r is not None:
                rid[i] = r["id"]
        # Households.
        hh_of = {}
        new_hh = {}
        head_of_group = {}
        for i, c, relation, _r in self.rows:
            gkey = household_key(c)
            if relation == Relation.HEAD:
                head_of_group[gkey] = rid[i]
            b = self.buildings[(c[GRID], c[ESTATE], c[BUILDING])]
            h = self.houses[(b["id"], c[UNIT], c[ROOM])]
            hh = self.households.get((h["id"], c[HH_NUMBER]))
            if hh is None:
                hh = new_hh.get(gkey)
                if hh is None:
                    hh = new_hh[gkey] = {"id": None, "house_id": h["id"], "number": c[HH_NUMBER], "head_id": None,
                                         "region_id": c[GRID], "region_path": ctx.grid_paths[c[GRID]]}
            hh_of[i] = hh
        for pk, hh in zip(_alloc_ids(Household, len(new_hh)), new_hh.values(), strict=True):
            hh["id"] = pk
            self.households[(hh["house_id"], hh["number"])] = hh
            self.made["households"].add(pk)
        new_hh_ids = {hh["id"] for hh in new_hh.values()}
        # On SQLite a household row naming a head not inserted yet is a pending (deferred)
        # foreign-key violation, and while any is pending SQLite looks up, for every resident row
        # inserted, the rows that point at it (four tables). New heads are therefore set after
        # the residents are in. PostgreSQL checks only the pointing rows, at commit, and an update
        # would write each household row twice there.
        later_heads = set(new_ids) if connection.vendor == "sqlite" else set()
        hh_rows, head_rows = [], []
        for gkey, hh in new_hh.items():
            head = hh["head_id"] = head_of_group.get(gkey)
            if head in later_heads:
                head_rows.append((head, hh["id"]))
                head = None
            hh_rows.append((hh["id"], hh["region_id"], hh["region_path"], hh["house_id"], hh["number"], head, now))
        _insert(Household, ["id", "region", "region_path", "house", "number", "head", "created_at"], hh_rows)
        # New residents.
        res_cols = ["id", "region", "region_path", "name", "pinyin", "initials", "gender", "birth_date", "id_number_enc",
                    "id_number_bidx", "id_number_masked", "phone_enc", "phone_bidx", "phone_masked", "ethnicity",
                    "residence_type", "political_status", "household", "relation", "status", "created_at", "updated_at"]
        res_rows, member_rows, event_rows = [], [], []
        for i, c, relation, _r in new_rows:
            hh = hh_of[i]
            phone = c[PHONE] or ("", "", "")
            res_rows.append((
                rid[i], hh["region_id"], hh["region_path"], c[NAME], c[PINYIN], c[INITIALS], c[GENDER], day(c[BIRTH]),
                c[ID_ENC], c[ID_BIDX], c[ID_MASKED], phone[1], phone[0], phone[2], c[ETHNICITY] or "汉族",
                c[RESIDENCE] or "registered", c[POLITICAL] or "masses", hh["id"], relation, active, now, now,
            ))
            member_rows.append((hh["id"], rid[i], relation, today, None))
            event_rows.append((rid[i], registered, today, None, hh["id"], c[NOTE], actor_id, now))
        _insert(Resident, res_cols, res_rows)
        _update(Household, ["head"], head_rows)
        # Existing residents: changes, moves, relation changes.
        upd_rows = []
        ended = []
        relation_rows = []
        heads_left: list[tuple[int, int]] = []  # (household, resident) where the resident may have been head
        moved_regions = []
        for i, c, relation, r in self.rows:
            if r is None:
                continue
            ch = self.changes[i]
            if not ch:
                continue
            hh = hh_of[i]
            phone = c[PHONE]
            upd_rows.append((
                c[NAME], c[PINYIN], c[INITIALS],
                phone[1] if phone else None, phone[0] if phone else None, phone[2] if phone else None,
                c[ETHNICITY], c[RESIDENCE], c[POLITICAL], hh["id"], relation, active,
                hh["region_id"], hh["region_path"], now, r["id"],
            ))
            if "household" in ch:
                if r["household_id"]:
                    ended.append((today, r["id"]))
                    heads_left.append((r["household_id"], r["id"]))
                member_rows.append((hh["id"], r["id"], relation, today, None))
                kind = (EventKind.MOVE_HOUSE if r["status"] == ResidentStatus.ACTIVE and r["household_id"] else EventKind.MOVE_IN).value
                event_rows.append((r["id"], kind, today, r["household_id"], hh["id"], c[NOTE], actor_id, now))
                if hh["region_path"] != r["region_path"]:
                    moved_regions.append((hh["region_path"], r["id"]))
            elif "relation" in ch:
                relation_rows.append((relation, r["id"]))
                if r["relation"] == Relation.HEAD:
                    heads_left.append((r["household_id"], r["id"]))
            logs.append((Resident, r["id"], c[NAME], {k: [_str_or_none(a), _str_or_none(b)] for k, (a, b) in ch.items()}))
        if upd_rows:
            table = Resident._meta.db_table
            sql = (f'UPDATE "{table}" SET "name" = %s, "pinyin" = %s, "initials" = %s, '
                   '"phone_enc" = COALESCE(%s, "phone_enc"), "phone_bidx" = COALESCE(%s, "phone_bidx"), '
                   '"phone_masked" = COALESCE(%s, "phone_masked"), "ethnicity" = COALESCE(%s, "ethnicity"), '
                   '"residence_type" = COALESCE(%s, "residence_type"), "political_status" = COALESCE(%s, "political_status"), '
                   '"household_id" = %s, "relation" = %s, "status" = %s, "region_id" = %s, "region_path" = %s, '
                   '"updated_at" = %s WHERE "id" = %s')
            with connection.cursor() as cur:
                cur.executemany(sql, upd_rows)
        # A resident has at most one open membership; ended ones keep their dates.
        _update(HouseholdMembership, ["end_date"], ended, where="resident_id", open_only=True)
        _update(HouseholdMembership, ["relation"], relation_rows, where="resident_id", open_only=True)
        _insert(HouseholdMembership, ["household", "resident", "relation", "start_date", "end_date"], member_rows)
        # Heads of existing households.
        head_updates = []
        for gkey, members in self.groups.items():
            head = head_of_group.get(gkey)
            if head is None:
                continue
            i = next((j for j in members if j in hh_of), None)
            if i is None:
                continue
            hh = hh_of[i]
            if hh["id"] in new_hh_ids:
                continue
            if hh["head_id"] != head:
                logs.append((Household, hh["id"], self._place_label(gkey), {"head": [_str_or_none(hh["head_id"]), str(head)]}))
                head_updates.append((head, hh["id"]))
                hh["head_id"] = head
        _update(Household, ["head"], head_updates)
        # A head who moved away or is no longer head leaves the household without one (unless replaced).
        cleared = heads_left  # runs after the head updates, so a replaced head is no longer matched
        if cleared:
            table = Household._meta.db_table
            with connection.cursor() as cur:
                cur.executemany(f'UPDATE "{table}" SET "head_id" = NULL WHERE "id" = %s AND "head_id" = %s', cleared)
        _insert(ResidentEvent, ["resident", "kind", "date", "from_household", "to_household", "note", "created_by",
                                "created_at"], event_rows)
        # Tags: the file's care tags, and age tags from the birth date.
        self._write_tags(rid, moved_regions, hh_of, today)
        # Audit log for changes to existing rows.
        self.logged = len(logs)
        if logs:
            from auditlog.models import LogEntry

            cts = {m: ContentType.objects.get_for_model(m) for m in {x[0] for x in logs}}
            entries = [
                LogEntry(content_type=cts[m], object_pk=str(pk), object_id=pk, object_repr=str(rep)[:200],
                         action=LogEntry.Action.UPDATE, changes=ch, actor_id=actor_id, timestamp=now_obj,
                         additional_data={"import_job": self.job.pk})
                for m, pk, rep, ch in logs
            ]
            LogEntry.objects.bulk_create(entries, batch_size=1000)

    def _write_tags(self, rid, moved_regions, hh_of, today_db):
        today = self.today
        ctx = self.ctx
        wanted: dict[int, set] = {}
        age_ids = {t[0] for t in ctx.age_tags}
        path_of = {}
        for i, c, _relation, _r in self.rows:
            b = c[BIRTH]
            age = today.year - b.year - ((today.month, today.day) < (b.month, b.day))
            tags = set(c[TAGS])
            for tid, lo, hi in ctx.age_tags:
                if (lo is None or age >= lo) and (hi is None or age <= hi):
                    tags.add(tid)
            wanted[rid[i]] = tags
            path_of[rid[i]] = hh_of[i]["region_path"]
        open_tags = self.open_tags
        add, end = [], []
        for res_id, tags in wanted.items():
            have = open_tags.get(res_id, set())
            for t in tags - have:
                add.append((res_id, t, today_db, None, "", path_of[res_id]))
            for t in (have & age_ids) - tags:
                end.append((res_id, t))
        add.sort(key=operator.itemgetter(0))  # in resident order, as the residents were written
        _insert(ResidentTag, ["resident", "tag", "start_date", "end_date", "note", "region_path"], add)
        if end:
            table = ResidentTag._meta.db_table
            d = today_db
            with connection.cursor() as cur:
                cur.executemany(
                    f'UPDATE "{table}" SET "end_date" = %s WHERE "resident_id" = %s AND "tag_id" = %s AND "end_date" IS NULL',
                    [(d, a, b) for a, b in end],
                )
        _update(ResidentTag, ["region_path"], moved_regions, where="resident_id")


def _str_or_none(value) -> str | None:
    """A value as the audit log keeps it: text, or None."""
    return None if value is None else str(value)
