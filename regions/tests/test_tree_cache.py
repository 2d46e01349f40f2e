"""The per-process tree (regions/tree.py) answers point lookups and the units above a place
without the database, and follows every change: at once in the process that made it, and in
the others once the shared version moves."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regions import services as rs
from regions.access import tree
from regions.models import Region

pytestmark = pytest.mark.django_db

SQUARE = lambda x, y: {"type": "Polygon", "coordinates": [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]]}  # noqa: E731


def test_a_point_is_found_in_its_grid_without_a_query_once_the_tree_is_kept(world):
    w = world
    assert tree.grid_at(120.605, 31.305).pk == w.grid1.pk
    with CaptureQueriesContext(connection) as q:
        assert tree.grid_at(120.615, 31.305).pk == w.grid2.pk
        assert tree.grid_at(120.625, 31.305).pk == w.grid3.pk
        assert tree.grid_at(121.5, 31.305) is None  # outside every grid
        assert tree.unit(w.community.path).name == "钮家巷社区"
    assert len(q.captured_queries) == 0


def test_a_grid_drawn_or_redrawn_in_this_process_is_found_at_once(world):
    w = world
    assert tree.grid_at(120.635, 31.305) is None
    grid4 = rs.create_region(None, parent=w.community2, code="", name="第四网格", boundary=SQUARE(120.63, 31.30))
    assert tree.grid_at(120.635, 31.305).pk == grid4.pk
    rs.update_region(None, grid4, boundary=SQUARE(120.64, 31.30))
    assert tree.grid_at(120.635, 31.305) is None
    assert tree.grid_at(120.645, 31.305).pk == grid4.pk


def test_a_moved_grid_is_found_under_its_new_community_at_once(world):
    w = world
    assert tree.grid_at(120.615, 31.305).path.startswith(w.community.path)
    rs.move_grid(None, w.grid2, w.community2)
    moved = tree.grid_at(120.615, 31.305)
    assert moved.pk == w.grid2.pk and moved.path.startswith(w.community2.path)
    assert moved.path == Region.objects.get(pk=w.grid2.pk).path


def test_a_change_made_by_another_process_is_seen_once_the_shared_version_moves(world, monkeypatch):
    w = world
    assert tree.grid_at(120.615, 31.305).pk == w.grid2.pk
    # Another process redraws grid2 (this process gets no signal) and bumps the version on commit.
    Region.objects.filter(pk=w.grid2.pk).update(boundary=SQUARE(120.70, 31.30), min_lng=120.70, max_lng=120.71)
    assert tree.grid_at(120.615, 31.305).pk == w.grid2.pk  # not checked yet: the kept tree answers
    tree.places._bump()
    tree.places._state["checked"] = 0  # its next version check is due
    assert tree.grid_at(120.615, 31.305) is None
    assert tree.grid_at(120.705, 31.305).pk == w.grid2.pk
    cache.delete(tree.places.key)


def test_a_caller_changing_the_place_it_got_does_not_change_the_kept_one(world):
    w = world
    got = tree.grid_at(120.605, 31.305)
    got.name = "改了"
    assert tree.grid_at(120.605, 31.305).name == "第一网格"
    unit = tree.unit(w.community.path)
    unit.name = "改了"
    assert tree.unit(w.community.path).name == "钮家巷社区"


def test_a_kept_grid_still_reads_its_boundary_when_asked(world):
    world  # noqa: B018 (the world, built by its fixture)
    got = tree.grid_at(120.605, 31.305)
    assert got.boundary["type"] == "Polygon"
