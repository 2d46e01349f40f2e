"""The dashboard as people see it (desktop and phone), with a few hundred orders."""

import datetime as dt
import random
from pathlib import Path

import pytest
from django.utils import timezone

from conftest import browser_login
from regions import services as rs
from regions.models import Region
from workorders import figures as rollups
from workorders.models import Source, Status, WorkOrder

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def _orders(world, cats):
    """Bulk rows standing for months of work (the services' steps are tested elsewhere; here
    only the figures matter)."""
    rnd = random.Random(7)
    w = world
    more = [rs.create_region(None, parent=w.street, code=f"32050800100{i}", name=n) for i, n in ((3, "混堂巷社区"), (4, "胡厢使社区"), (5, "梅花社区"))]
    grids = [w.grid1, w.grid2, w.grid3] + [rs.create_region(None, parent=c, code="", name=f"{c.name[:2]}一网格") for c in more]
    parents = {g.pk: Region.objects.get(path=g.path[: Region.steplen * 4]) for g in grids}
    weights = [30, 22, 18, 12, 3, 9]
    now = timezone.localtime()
    rows = []
    cat_list = [cats["litter"], cats["dispute"], cats["road"]]
    for _ in range(420):
        grid = rnd.choices(grids, weights)[0]
        reported = now - dt.timedelta(days=rnd.uniform(0, 200), hours=rnd.uniform(0, 8))
        cat = rnd.choice(cat_list)
        deadline = reported + dt.timedelta(days=3)
        community = parents[grid.pk]
        o = WorkOrder(
            category=cat, kind=cat.kind, source=Source.GRID, title=cat.name, region=grid, region_path=grid.path,
            handler_region=community, handler_region_path=community.path, reported_at=reported, deadline=deadline,
        )
        fate = rnd.random()
        if fate < 0.8 and reported + dt.timedelta(days=4) < now:
            o.status = Status.CLOSED
            o.filed_at = reported + dt.timedelta(minutes=rnd.uniform(3, 40))
            o.dispatched_at = o.filed_at + dt.timedelta(minutes=rnd.uniform(5, 90))
            o.handled_at = o.dispatched_at + dt.timedelta(hours=rnd.uniform(2, 70))
            o.verified_at = o.handled_at + dt.timedelta(hours=rnd.uniform(0.3, 4))
            o.closed_at = o.verified_at + dt.timedelta(minutes=30)
            o.rework_count = 1 if rnd.random() < 0.08 else 0
            o.extension_count = 1 if rnd.random() < 0.05 else 0
            o.settled_in_grid = rnd.random() < 0.6
        elif fate < 0.85:
            o.status = Status.SUSPENDED
            o.was_suspended = True
        else:
            o.status = Status.IN_PROGRESS
        rows.append(o)
    WorkOrder.objects.bulk_create(rows)
    from workorders.models import Rating

    Rating.objects.bulk_create(
        [Rating(order=o, score=rnd.choice([3, 4, 5, 5, 5]), at=o.closed_at) for o in rows if o.status == Status.CLOSED and rnd.random() < 0.6]
    )
    rollups.refresh()


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_reads_well_on_desktop_and_phone(world, cats, page, phone):
    _orders(world, cats)
    SHOTS.mkdir(exist_ok=True)
    for pg, name in ((page, "desktop"), (phone, "phone")):
        browser_login(pg, "street1")
        pg.goto(pg.base_url + "/insights/")
        pg.wait_for_selector("#chart-trend svg")
        assert pg.locator("#chart-kinds svg").count() == 1
        assert pg.locator("#chart-stages svg").count() == 1
        assert pg.locator("table.ranking tbody tr").count() == 5
        assert "不参与排名" in pg.content() or "Not ranked" in pg.content()
        # Nothing wider than the screen but the scrolling table.
        assert pg.evaluate("document.documentElement.scrollWidth") <= pg.viewport_size["width"] + 1
        pg.screenshot(path=str(SHOTS / f"insights-street-{name}.png"), full_page=True)
        pg.goto(pg.base_url + f"/insights/{world.community.pk}/?period=year")
        pg.wait_for_selector("#chart-trend svg")
        pg.screenshot(path=str(SHOTS / f"insights-community-year-{name}.png"), full_page=True)
