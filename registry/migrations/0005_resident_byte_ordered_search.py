"""Resident search columns become byte-ordered on PostgreSQL (COLLATE "C"), with plain
(field, id) indexes on both databases.

Under a linguistic collation a PostgreSQL index answers `LIKE 'p%'` only with
varchar_pattern_ops, and such an index cannot give ORDER BY; a page of a large area or a rare
name then either sorted the area or walked the primary key past rows of other areas (1M
residents: up to 540 ms). Under "C" one plain index does both. SQLite columns are BINARY already.
"""

from django.db import migrations, models

COLUMNS = {"region_path": 255, "name": 50, "initials": 50, "pinyin": 200}


def byte_order(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, length in COLUMNS.items():
        schema_editor.execute(
            f'ALTER TABLE registry_resident ALTER COLUMN {column} TYPE varchar({length}) COLLATE "C"'
        )


def default_order(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, length in COLUMNS.items():
        schema_editor.execute(
            f'ALTER TABLE registry_resident ALTER COLUMN {column} TYPE varchar({length}) COLLATE "default"'
        )


class Migration(migrations.Migration):

    dependencies = [
        ('regions', '0001_initial'),
        ('registry', '0004_drop_duplicate_household_index'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='resident',
            name='resident_scope_idx',
        ),
        migrations.RemoveIndex(
            model_name='resident',
            name='resident_name_idx',
        ),
        migrations.RemoveIndex(
            model_name='resident',
            name='resident_initials_idx',
        ),
        migrations.RemoveIndex(
            model_name='resident',
            name='resident_pinyin_idx',
        ),
        migrations.RunPython(byte_order, default_order),
        migrations.AddIndex(
            model_name='resident',
            index=models.Index(fields=['region_path', 'id'], name='resident_scope_c_idx'),
        ),
        migrations.AddIndex(
            model_name='resident',
            index=models.Index(fields=['name', 'id'], name='resident_name_c_idx'),
        ),
        migrations.AddIndex(
            model_name='resident',
            index=models.Index(fields=['initials', 'id'], name='resident_initials_c_idx'),
        ),
        migrations.AddIndex(
            model_name='resident',
            index=models.Index(fields=['pinyin', 'id'], name='resident_pinyin_c_idx'),
        ),
    ]
