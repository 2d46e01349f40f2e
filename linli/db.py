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


# ------------------------------------------------------------------ one new row, quickly

_INSERTS: dict[tuple, tuple] = {}


def _insert_plan(model, conn) -> tuple:
    key = (model, conn.alias, conn.vendor)
    plan = _INSERTS.get(key)
    if plan is None:
        meta = model._meta
        qn = conn.ops.quote_name
        fields = [f for f in meta.local_concrete_fields if not (f.primary_key and f.db_returning) and not getattr(f, "generated", False)]
        if meta.parents or any(hasattr(f, "get_placeholder") for f in fields):
            # Inherited tables and fields with their own SQL placeholder: the ORM's way only.
            raise TypeError(f"insert_row: {meta.label} needs save()")
        sql = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES ({', '.join(['%s'] * len(fields))})"
        returning = meta.pk.db_returning and conn.features.can_return_columns_from_insert
        if returning:
            sql += f" RETURNING {qn(meta.pk.column)}"
        plan = _INSERTS[key] = (fields, sql, returning)
    return plan


def insert_row(obj, using: str = "default"):
    """Insert a new model instance as Model.save() would (each field's pre_save and database
    preparation, the pre_save and post_save signals, the new id set), with the INSERT statement
    built once per model and database instead of compiled by the ORM on every call. For the
    rows written on every report (the order, its first transition, the desk's notices); a
    test compares its rows with save()'s."""
    from django.db import connections
    from django.db.models import signals

    if obj.pk is not None:  # an id chosen by the caller: the ORM's path
        obj.save(force_insert=True, using=using)
        return obj
    model = type(obj)
    conn = connections[using]
    fields, sql, returning = _insert_plan(model, conn)
    obj._prepare_related_fields_for_save(operation_name="save")
    signals.pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection=conn) for f in fields]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        pk = cursor.fetchone()[0] if returning else conn.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
    if obj.pk is None:
        setattr(obj, model._meta.pk.attname, pk)
    obj._state.adding = False
    obj._state.db = using
    signals.post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False, using=using)
    return obj


class sqlite_pragmas:
    """Change this connection's SQLite page cache (KiB) and memory map (bytes) for one job, and
    put them back after; nothing on PostgreSQL. A big import wants a bigger cache; a streamed
    export a small one and no map, so its memory stays flat however many rows it reads."""

    def __init__(self, *, cache_kib: int | None = None, mmap_bytes: int | None = None):
        self.wanted = {k: v for k, v in (("cache_size", None if cache_kib is None else -cache_kib),
                                         ("mmap_size", mmap_bytes)) if v is not None}
        self.before: dict = {}

    def __enter__(self):
        if connection.vendor == "sqlite":
            with connection.cursor() as c:
                for name, value in self.wanted.items():
                    c.execute(f"PRAGMA {name}")
                    row = c.fetchone()
                    if row is None:  # an in-memory database has no map
                        continue
                    self.before[name] = int(row[0])
                    c.execute(f"PRAGMA {name} = {int(value)}")
        return self

    def __exit__(self, *exc):
        if self.before:
            with connection.cursor() as c:
                for name, value in self.before.items():
                    c.execute(f"PRAGMA {name} = {value}")
        return False
