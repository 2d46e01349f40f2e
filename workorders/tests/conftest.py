import pytest


@pytest.fixture
def cats(world):
    from workorders.testing import make_categories

    return make_categories(world)
