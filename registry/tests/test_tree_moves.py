"""When the tree changes, the registry's rows follow: a moved grid takes its buildings and
residents along, a merged community hands its grids over (pages and services)."""

import pytest
from django.urls import reverse

from accounts.models import RoleAssignment
from regions import services
from regions.models import Region
from registry.models import Building, Resident


@pytest.mark.django_db
def test_move_a_grid_to_another_community(world, login):
    client = login(world.street1)
    page = client.get(reverse("regions:move", args=[world.grid2.pk])).content.decode()
    assert f'value="{world.community2.pk}"' in page
    assert f'value="{world.community.pk}"' not in page  # its own community is not offered
    assert "第二网格目前属于钮家巷社区。" in page
    r = client.post(reverse("regions:move", args=[world.grid2.pk]), {"community": world.community2.pk})
    assert r.status_code == 302
    grid = Region.objects.get(pk=world.grid2.pk)
    assert grid.path.startswith(world.community2.path) and grid.code.startswith(world.community2.code)
    tenant = Resident.objects.get(pk=world.g2.residents[2].pk)
    assert tenant.region_path == grid.path


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

