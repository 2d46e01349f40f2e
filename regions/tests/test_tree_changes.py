import pytest

from accounts.models import RoleAssignment
from linli.errors import DomainError, Forbidden
from regions import services
from regions.models import Region
from registry.models import Building, Resident


def test_moving_a_grid_takes_its_rows_along(world):
    grid = services.move_grid(world.admin, world.grid2, world.community2)
    assert grid.path.startswith(world.community2.path)
    assert grid.code.startswith(world.community2.code) and len(grid.code) == 15
    assert set(Resident.objects.filter(region=grid).values_list("region_path", flat=True)) == {grid.path}
    assert RoleAssignment.objects.get(user=world.grid2_user).region_path == grid.path
    # the community worker of the old community no longer sees it
    assert not Resident.objects.filter(region=grid, region_path__startswith=world.community.path).exists()


def test_merging_communities_keeps_history(world):
    target = services.merge_communities(world.admin, world.community2, world.community)
    old = Region.objects.get(pk=world.community2.pk)
    assert old.valid_to is not None and old.successor_id == target.pk
    assert not Region.objects.filter(path__startswith=old.path, depth=old.depth + 1).exists()
    grid3 = Region.objects.get(pk=world.grid3.pk)
    assert grid3.path.startswith(target.path)
    assert Building.objects.get(region=grid3).region_path == grid3.path


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
