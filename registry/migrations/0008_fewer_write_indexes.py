"""Six foreign-key indexes that no query reads, dropped: each new resident wrote about four more
index entries for nothing (a large import pays for every one of them).

- building.region and house.building: the unique constraints building_unique_in_grid and
  house_unique_in_building lead with these columns and answer the same lookups;
- residenttag.tag: residenttag_tag_scope_idx leads with tag;
- house.region, household.region: rows are found by place through region_path (as residents are);
- residentevent.created_by: events are read by resident and by household, never by author.

The indexes are dropped by name (the same on SQLite and PostgreSQL): an AlterField would rebuild
each SQLite table to drop one index.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


DROPPED = [
    ("registry_building_region_id_9c2391a7", "registry_building", "region_id"),
    ("registry_house_building_id_f682dbba", "registry_house", "building_id"),
    ("registry_house_region_id_971af12e", "registry_house", "region_id"),
    ("registry_household_region_id_50252459", "registry_household", "region_id"),
    ("registry_residentevent_created_by_id_50d13b99", "registry_residentevent", "created_by_id"),
    ("registry_residenttag_tag_id_bd967429", "registry_residenttag", "tag_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('regions', '0001_initial'),
        ('registry', '0007_blind_index_no_pattern_ops'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='building',
                    name='region',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regions.region'),
                ),
                migrations.AlterField(
                    model_name='house',
                    name='building',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='houses', to='registry.building'),
                ),
                migrations.AlterField(
                    model_name='house',
                    name='region',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regions.region'),
                ),
                migrations.AlterField(
                    model_name='household',
                    name='region',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regions.region'),
                ),
                migrations.AlterField(
                    model_name='residentevent',
                    name='created_by',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='residenttag',
                    name='tag',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.caretag'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"', f'CREATE INDEX "{name}" ON "{table}" ("{column}")')
                for name, table, column in DROPPED
            ],
        ),
    ]
