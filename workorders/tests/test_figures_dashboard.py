import datetime as dt
import io
import zipfile

import pytest
from django.utils import timezone

from accounts.models import Role
from insights.models import RankingRule, Rollup
from registry.testing import make_user
from workorders import figures as rollups

from .figures_helpers import backdate, closed, reported


def url(region=None, **q):
    from urllib.parse import urlencode

    base = f"/insights/{region.pk}/" if region is not None else "/insights/"
    return base + ("?" + urlencode(q) if q else "")


def this_month():
    return timezone.localdate().strftime("%Y-%m")


@pytest.fixture
def busy(world, cats):
    """Orders this month: grid1 three closed (one reworked), grid2 one closed, grid3 one open."""
    for i in range(3):
        closed(world, cats, rework=(i == 0))
    closed(world, cats, world.grid2)
    reported(world, cats, world.grid3)
    rollups.refresh()


def test_it_shows_the_headline_figures_of_the_users_area(world, busy, login):
    r = login(world.street1).get(url())
    assert r.status_code == 200
    html = r.content.decode()
    assert world.street.name in html
    f = r.context["f"]
    assert f["received"] == 5 and f["closed"] == 4
    assert f["rework_rate"] == pytest.approx(1 / 4)
    assert r.context["board"].snapshot["open"] == 1


def test_it_answers_404_outside_the_users_area(world, busy, login):
    c = login(world.community1)
    assert c.get(url(world.grid1)).status_code == 200
    assert c.get(url(world.community)).status_code == 200
    for other in (world.community2, world.grid3, world.street, world.city):
        assert c.get(url(other)).status_code == 404
        assert c.get(f"/insights/{other.pk}/export.xlsx").status_code == 404
    assert c.get("/insights/999999/").status_code == 404


def test_residents_and_department_handlers_have_no_dashboard(world, busy, login):
    assert login(world.resident1).get(url()).status_code == 404
    assert login(world.dept1).get(url(world.district)).status_code == 404


def test_it_asks_for_a_login(client, world):
    r = client.get(url())
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_units_below_the_minimum_are_listed_but_not_ranked(world, busy, login):
    RankingRule.objects.all().delete()
    RankingRule.objects.create(indicator="*", min_orders=2, valid_from=dt.date(2000, 1, 1))
    b = login(world.community1).get(url(world.community, rank="closure_rate")).context["board"]
    assert [u["region"].pk for u in b.ranked] == [world.grid1.pk]
    assert [u["region"].pk for u in b.unranked] == [world.grid2.pk]
    # A newer rule for this indicator beats the general one.
    RankingRule.objects.create(indicator="closure_rate", min_orders=1, valid_from=dt.date(2020, 1, 1))
    r = login(world.community1).get(url(world.community, rank="closure_rate"))
    b = r.context["board"]
    assert [u["region"].pk for u in b.ranked] == [world.grid1.pk, world.grid2.pk]
    assert [u["rank"] for u in b.ranked] == [1, 1]  # both closed everything received
    RankingRule.objects.create(indicator="closure_rate", min_orders=5, valid_from=dt.date(2021, 1, 1))
    r = login(world.community1).get(url(world.community, rank="closure_rate"))
    assert r.context["board"].ranked == []
    assert "少于 5 件" in r.content.decode() or "fewer than 5" in r.content.decode()


def test_the_ranking_orders_units_by_the_chosen_figure(world, cats, login):
    RankingRule.objects.all().delete()
    for _ in range(2):
        closed(world, cats, world.community and world.grid1)
    reported(world, cats, world.grid1)
    closed(world, cats, world.grid2)
    rollups.refresh()
    b = login(world.community1).get(url(world.community, rank="closure_rate")).context["board"]
    assert [u["region"].pk for u in b.ranked] == [world.grid2.pk, world.grid1.pk]
    assert b.ranked[1]["k"]["closure_rate"] == pytest.approx(2 / 3)


def test_the_page_reads_a_fixed_number_of_rows_whatever_the_orders(world, cats, login, django_assert_max_num_queries):
    c = login(world.street1)
    closed(world, cats)
    rollups.refresh()
    c.get(url())  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert c.get(url()).status_code == 200
    for _ in range(6):
        closed(world, cats, world.grid2)
        reported(world, cats, world.grid3)
    rollups.refresh()
    with django_assert_max_num_queries(len(few)):
        assert c.get(url()).status_code == 200
    assert not [q["sql"] for q in few.captured_queries if "workorders_workorder" in q["sql"]]
    assert len(few) <= 15


def test_a_period_can_be_chosen(world, cats, login):
    o = closed(world, cats)
    start = timezone.localtime(o.closed_at).replace(year=2025, month=5, day=14)
    backdate(o, reported_at=start, filed_at=start, dispatched_at=start, handled_at=start, verified_at=start, closed_at=start, deadline=start + dt.timedelta(days=1))
    rollups.refresh()
    c = login(world.street1)
    assert c.get(url(period="month", at="2025-05")).context["f"]["closed"] == 1
    assert c.get(url(period="quarter", at="2025-06")).context["f"]["closed"] == 1
    assert c.get(url(period="year", at="2025-01")).context["f"]["closed"] == 1
    assert c.get(url(period="month", at="2025-06")).context["f"]["closed"] == 0
    trend = c.get(url(period="year", at="2025-01")).context["board"].trend
    assert trend["closed"][4] == 1 and len(trend["labels"]) == 12


def test_a_bad_period_says_so_and_shows_this_month(world, busy, login):
    r = login(world.street1).get(url(period="week", at="2025-13"), follow=True)
    assert r.status_code == 200
    assert r.context["board"].span.start.strftime("%Y-%m") == this_month()
    assert len(list(r.context["messages"])) == 1


def test_it_exports_the_figures_and_the_ranking(world, busy, login):
    r = login(world.street1).get(f"/insights/{world.street.pk}/export.xlsx?period=month&at={this_month()}")
    assert r.status_code == 200
    data = b"".join(r.streaming_content)
    z = zipfile.ZipFile(io.BytesIO(data))
    names = z.namelist()
    assert "xl/worksheets/sheet1.xml" in names and "xl/worksheets/sheet2.xml" in names
    ranking = z.read("xl/worksheets/sheet2.xml").decode()
    assert world.community.name in ranking and world.community2.name in ranking
    figures = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>5</v>" in figures  # received


def test_rollup_rows_of_other_apps_are_left_alone(world, busy):
    Rollup.objects.create(region=world.grid1, region_path=world.grid1.path, level=5, period="month", period_start=dt.date(2026, 1, 1), indicator="med.closed", value=3)
    rollups.rebuild()
    assert Rollup.objects.get(indicator="med.closed").value == 3


def test_a_grid_dashboard_has_no_ranking(world, busy, login):
    grid1 = make_user("g1b", Role.GRID_WORKER, world.grid1)
    r = login(grid1).get(url())
    assert r.status_code == 200 and r.context["board"].region == world.grid1
    assert "h-ranking" not in r.content.decode()
