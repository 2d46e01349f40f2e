"""PostgreSQL only: drop the `varchar_pattern_ops` copies Django adds beside the indexes of
indexed CharFields. The blind-index columns hold HMACs and are only ever matched exactly (the
plain index answers that), so each copy was a second index of the same size to keep up on every
insert: 80 MB and 64 MB at 1,000,000 residents, about 0.3 s per 100,000 imported rows each."""

from django.db import migrations

COLUMNS = [("resident", "id_number_bidx"), ("resident", "phone_bidx"), ("organization", "contact_phone_bidx")]


def _names(apps, schema_editor):
    for model_name, column in COLUMNS:
        model = apps.get_model("registry", model_name)
        table = model._meta.db_table
        yield table, column, schema_editor._create_index_name(table, [column], suffix="_like")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, _column, name in _names(apps, schema_editor):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def restore(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column, name in _names(apps, schema_editor):
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}" varchar_pattern_ops)')


class Migration(migrations.Migration):
    dependencies = [("registry", "0006_resident_fewer_indexes")]

    operations = [migrations.RunPython(drop, restore)]
