"""Every index on the tables an import writes serves a query: each one costs every new row an
index entry. Foreign keys that another index already leads with, or that no query filters on,
carry none."""

import pytest
from django.db import connection

from registry.models import Building, House, Household, ResidentEvent, ResidentTag


def _indexed_columns(model) -> list[tuple[str, ...]]:
    with connection.cursor() as c:
        found = connection.introspection.get_constraints(c, model._meta.db_table)
    return [tuple(v["columns"]) for v in found.values() if v["index"] or v["unique"]]


@pytest.mark.django_db
@pytest.mark.parametrize("model, column, covered_by", [
    (Building, "region_id", ("region_id", "estate", "number")),
    (House, "building_id", ("building_id", "unit", "room")),
    (House, "region_id", None),
    (Household, "region_id", None),
    (ResidentEvent, "created_by_id", None),
    (ResidentTag, "tag_id", ("tag_id", "region_path")),
])
def test_a_foreign_key_without_a_reader_has_no_index_of_its_own(model, column, covered_by):
    columns = _indexed_columns(model)
    assert (column,) not in columns
    if covered_by:
        assert covered_by in columns


@pytest.mark.django_db
def test_the_indexes_that_pages_and_foreign_key_checks_read_are_kept():
    assert ("from_household_id",) in _indexed_columns(ResidentEvent)  # the household page's history
    assert ("to_household_id",) in _indexed_columns(ResidentEvent)
    assert ("resident_id",) in _indexed_columns(ResidentEvent)  # the resident page's history
    assert ("house_id",) in _indexed_columns(Household)
    # SQLite looks up the households pointing at every resident inserted while a deferred
    # foreign-key violation is pending; without this index that is a scan per resident.
    assert ("head_id",) in _indexed_columns(Household)
