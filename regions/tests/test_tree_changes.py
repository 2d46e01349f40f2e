import pytest

from linli.errors import DomainError, Forbidden
from regions import services


def test_a_grid_worker_cannot_change_the_tree(world):
    with pytest.raises(Forbidden):
        services.create_region(world.grid1_user, parent=world.community, code="", name="新网格")


def test_codes_follow_the_level_rules(world):
    with pytest.raises(DomainError) as e:
        services.create_region(world.admin, parent=world.street, code="320509001003", name="错社区")
    assert e.value.code == "region_code_invalid"
    with pytest.raises(DomainError):
        services.create_region(world.admin, parent=world.district, code="320508500000", name="错街道")
    street = services.create_region(world.admin, parent=world.district, code="320508101000", name="某镇")
    assert "镇" in street.kind_label or street.kind_label == "Town"


def test_point_lookup_finds_the_grid(world):
    assert services.point_to_grid(120.605, 31.305) == world.grid1
    assert services.point_to_grid(120.615, 31.305) == world.grid2
    assert services.point_to_grid(100.0, 20.0) is None


def test_a_code_already_used_is_refused_naming_the_code(world):
    with pytest.raises(DomainError) as e:
        services.create_region(world.admin, parent=world.community, code=world.grid1.code, name="又一个网格")
    assert e.value.code == "region_code_taken" and world.grid1.code in e.value.text("en")
