"""The compliance dashboard as staff see it (desktop and phone), with months of field work."""

import datetime as dt
import random
from pathlib import Path

import pytest

from conftest import browser_login
from fieldwork import figures
from fieldwork.models import DueItem, VisitRule, WorkerDay
from fieldwork.services import dues
from fieldwork.tests.test_compliance_figures import TODAY, activity
from workorders.testing import make_categories

SHOTS = Path("/tmp/fw/shots")


def _history(w):
    """Bulk rows standing for past months (the services are tested elsewhere; here only the
    figures matter): worker-days and closed monthly due items."""
    rnd = random.Random(4)
    rule = VisitRule.objects.get(code="all_quarterly")
    days, items = [], []
    grids = [(w.grid1, w.grid1_user, w.g1), (w.grid2, w.grid2_user, w.g2)]
    for back in range(3, 200):
        day = TODAY - dt.timedelta(days=back)
        for grid, user, _g in grids:
            if day.weekday() < 5 and rnd.random() < 0.9:
                s = int(rnd.uniform(2.5, 5.5) * 3600)
                days.append(WorkerDay(worker=user, grid=grid, region_path=grid.path, day=day, patrol_seconds=s, patrol_min_met=s >= 4 * 3600,
                                      visits=rnd.randint(0, 6), reports=rnd.randint(0, 2)))
    for back in range(1, 7):
        start = dues.period_bounds("quarter", (TODAY.replace(day=1) - dt.timedelta(days=1 + 91 * (back - 1))))[0]
        end = dues.period_bounds("quarter", start)[1]
        if end >= TODAY:
            continue
        for grid, _u, g in grids:
            for hh in g.households:
                items.append(DueItem(household=hh, rule=rule, grid=grid, region_path=grid.path, period_start=start, period_end=end,
                                     required=2, done=rnd.choice([0, 1, 2, 2, 2])))
    WorkerDay.objects.bulk_create(days)
    DueItem.objects.bulk_create(items, ignore_conflicts=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_compliance_dashboard_reads_well_on_desktop_and_phone(world, page, phone):
    world.cats = make_categories(world)
    dues.recompute_all(TODAY)
    activity(world)
    figures.rebuild()
    _history(world)
    # Roll the bulk rows up (a rebuild would recompute the worker-days from the sources).
    cells = {("day", TODAY)} | set().union(*(figures.cells_of(TODAY - dt.timedelta(days=d)) for d in range(0, 400, 20)))
    figures.recompute({world.grid1.path, world.grid2.path, world.grid3.path}, cells, TODAY)
    figures.write_months(None)  # and the workers' month rows
    SHOTS.mkdir(parents=True, exist_ok=True)
    for pg, name in ((page, "desktop"), (phone, "phone")):
        browser_login(pg, "street1")
        pg.goto(pg.base_url + "/fieldwork/compliance/?period=year")
        pg.wait_for_selector("#chart-trend svg")
        assert pg.locator("#chart-children svg").count() == 1
        assert pg.locator("table.ranking:not(.workers) tbody tr").count() == 2  # two communities
        assert pg.evaluate("document.documentElement.scrollWidth") <= pg.viewport_size["width"] + 1
        pg.screenshot(path=str(SHOTS / f"compliance-street-{name}.png"), full_page=True)
        pg.goto(pg.base_url + f"/fieldwork/compliance/?region={world.community.pk}&period=quarter")
        pg.wait_for_selector("#chart-trend svg")
        assert pg.locator("table.workers tbody tr").count() == 2
        pg.screenshot(path=str(SHOTS / f"compliance-community-{name}.png"), full_page=True)
