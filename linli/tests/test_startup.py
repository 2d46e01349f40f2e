"""A server process sets its long-lived objects aside from the garbage collector once loaded."""

import gc

import pytest

from linli.startup import settle


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def _in_collected_generations(obj) -> bool:
    return any(o is obj for g in range(3) for o in gc.get_objects(generation=g))


def test_after_settling_the_collector_no_longer_walks_the_loaded_dictionaries(unfrozen):
    from pypinyin.constants import PHRASES_DICT

    gc.collect()
    assert _in_collected_generations(PHRASES_DICT)
    settle()
    assert gc.get_freeze_count() > 100_000
    assert not _in_collected_generations(PHRASES_DICT)
    made_later = {"a": [1]}
    assert _in_collected_generations(made_later)


def test_the_wsgi_application_loads_and_settles(unfrozen):
    import importlib
    import sys

    gc.unfreeze()
    wsgi = importlib.reload(sys.modules["linli.wsgi"]) if "linli.wsgi" in sys.modules else importlib.import_module("linli.wsgi")
    assert callable(wsgi.application)
    assert gc.get_freeze_count() > 100_000
