"""A job can widen or narrow SQLite's page cache for itself; the connection gets its own back."""

import pytest
from django.db import connection

from linli.db import sqlite_pragmas


def _cache_size() -> int:
    with connection.cursor() as c:
        c.execute("PRAGMA cache_size")
        return c.fetchone()[0]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite pragmas")
def test_the_cache_is_changed_for_the_job_and_put_back_after_it_even_when_it_fails():
    before = _cache_size()
    with sqlite_pragmas(cache_kib=12345):
        assert _cache_size() == -12345
    assert _cache_size() == before
    with pytest.raises(RuntimeError), sqlite_pragmas(cache_kib=2048, mmap_bytes=0):
        assert _cache_size() == -2048
        raise RuntimeError("the job failed")
    assert _cache_size() == before
