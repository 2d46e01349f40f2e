from fieldwork import demo
from fieldwork.models import GridProfile, Patrol, PatrolPoint, Visit, WorkerDay
from insights.models import Rollup
from workorders.testing import make_categories


def test_the_demo_makes_field_work_once_inside_the_grids(world):
    make_categories(world)
    summary = demo.build(seed=7)
    assert summary.created and summary.counts["patrols"] > 60 and summary.counts["visits"] >= 3
    # Patrols of the signed-in workers' grids went through the services, with their routes.
    mine = Patrol.objects.filter(worker=world.grid1_user)
    assert mine.exists() and all(p.status == "ended" and p.seconds > 3 * 3600 for p in mine)
    for pt in PatrolPoint.objects.filter(patrol__region=world.grid1)[:200]:
        assert 31.30 <= pt.lat <= 31.31 and 120.60 <= pt.lng <= 120.61
    assert set(Visit.objects.values_list("region_id", flat=True)) <= {world.grid1.pk, world.grid2.pk, world.grid3.pk}
    assert GridProfile.objects.filter(grid=world.grid1).exists()
    # The figures are computed as the demo is built.
    assert WorkerDay.objects.filter(worker=world.grid1_user).count() > 20
    assert Rollup.objects.filter(region=world.city, indicator="fw.patrol.seconds").exists()
    assert Rollup.objects.filter(region=world.city, indicator="fw.coverage.required").exists()

    again = demo.build(seed=7)
    assert not again.created
    assert Patrol.objects.count() == summary.counts["patrols"]


def test_the_same_seed_makes_the_same_demo(world):
    make_categories(world)
    demo.build(seed=3)
    first = sorted(Patrol.objects.values_list("worker_id", "started_at", "seconds"))
    Patrol.objects.all().delete()
    demo.build(seed=3)
    assert len(first) > 0
    # Times are relative to now; the shape (who, how long) is the same.
    assert sorted((w, s) for w, _a, s in first) == sorted((w, s) for w, _a, s in Patrol.objects.values_list("worker_id", "started_at", "seconds"))
