"""The blind-index columns carry one index each: an exact match is all they are used for."""

import pytest
from django.db import connection

from registry.models import Organization, Resident


def _indexes(table: str) -> dict[str, str]:
    with connection.cursor() as c:
        c.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(c.fetchall())


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the pattern-ops copies exist only on PostgreSQL")
@pytest.mark.parametrize("model, column", [(Resident, "id_number_bidx"), (Resident, "phone_bidx"),
                                           (Organization, "contact_phone_bidx")])
def test_a_blind_index_column_has_one_plain_index_and_no_pattern_ops_copy(model, column):
    defs = [d for d in _indexes(model._meta.db_table).values() if f"({column}" in d]
    assert len(defs) == 1, defs
    assert "pattern_ops" not in defs[0]

