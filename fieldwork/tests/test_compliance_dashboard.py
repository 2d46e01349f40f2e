import io

import pytest
from python_calamine import CalamineWorkbook

from fieldwork import figures
from fieldwork.services import dues
from fieldwork.tests.test_compliance_figures import TODAY, activity
from insights.models import RankingRule
from workorders.testing import make_categories


@pytest.fixture
def data(world):
    world.cats = make_categories(world)
    dues.recompute_all(TODAY)
    activity(world)
    figures.rebuild()
    return world


def url(region=None, **q):
    from urllib.parse import urlencode

    if region is not None:
        q["region"] = region.pk
    return "/fieldwork/compliance/?" + urlencode(q)


def test_the_dashboard_shows_the_areas_figures(data, login):
    r = login(data.community1).get(url())
    assert r.status_code == 200
    b = r.context["board"]
    assert b.region == data.community
    assert b.figures["visits"] == 2 and b.figures["reports"] == 2
    assert b.figures["required"] == 4 and b.figures["coverage"] == 0
    assert b.figures["attend_minutes"] == 12
    assert b.figures["rating"] == 4
    assert [u["region"] for u in b.children] == [data.grid1, data.grid2]
    assert "第一网格" in r.content.decode()


def test_units_and_workers_below_the_minimum_are_listed_but_not_ranked(data, login):
    client = login(data.community1)
    b = client.get(url(rank="coverage")).context["board"]
    # The '*' default asks for 10 households; each grid has 2.
    assert b.minimum == 10 and b.ranked == [] and len(b.unranked) == 2
    RankingRule.objects.create(indicator="fw.coverage", min_orders=2, valid_from=TODAY.replace(month=1, day=1))
    RankingRule.objects.create(indicator="fw.worker.patrol", min_orders=2, valid_from=TODAY.replace(month=1, day=1))
    r = client.get(url(rank="coverage"))
    b = r.context["board"]
    assert b.minimum == 2 and [u["region"] for u in b.ranked] == [data.grid1, data.grid2]
    assert [u["user"] for u in b.workers_ranked] == [data.grid1_user]  # 3 worker-days of which 1 met
    assert b.workers_ranked[0]["k"]["patrol"] == pytest.approx(1 / 3)
    assert "少于2户" in r.content.decode() or "fewer than 2 households" in r.content.decode()


def test_a_grid_worker_sees_only_their_grid(data, login):
    client = login(data.grid2_user)
    r = client.get(url())
    assert r.context["board"].region == data.grid2
    assert r.context["board"].figures["visits"] == 0
    assert client.get(url(data.grid1)).status_code == 404
    assert client.get(url(data.community)).status_code == 404


def test_community2_staff_cannot_open_community1(data, login):
    from accounts.models import Role
    from registry.testing import make_user

    other = make_user("community2", Role.COMMUNITY_WORKER, data.community2)
    client = login(other)
    assert client.get(url()).context["board"].region == data.community2
    assert client.get(url(data.grid1)).status_code == 404
    assert client.get(f"/fieldwork/compliance/export.xlsx?region={data.community.pk}").status_code == 404


def test_residents_and_department_handlers_are_refused(data, login):
    assert login(data.resident1).get(url()).status_code == 403
    assert login(data.dept1).get(url()).status_code == 403


def test_bad_period_falls_back_with_a_message(data, login):
    r = login(data.community1).get(url(period="decade", at="abc"))
    assert r.status_code == 200
    assert r.context["board"].span.period == "month"


def test_the_export_holds_the_ranking_and_the_workers_of_the_area_only(data, login):
    r = login(data.community1).get("/fieldwork/compliance/export.xlsx?period=year&at=" + TODAY.strftime("%Y-%m"))
    assert r.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(r.streaming_content)))
    sheets = [book.get_sheet_by_index(i).to_python() for i in range(3)]
    assert [row[1] for row in sheets[1][1:]] == ["第一网格", "第二网格"]
    workers = sheets[2][1:]
    assert [w[1] for w in workers] == ["grid1"]
    assert workers[0][6] == 2  # visits
    text = " ".join(str(c) for rows in sheets for row in rows for c in row)
    assert "13800000001" not in text and "第三网格" not in text


def test_the_api_gives_the_dashboards_figures_in_scope(data, login):
    client = login(data.community1)
    r = client.get("/api/fieldwork/compliance")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["region"]["id"] == data.community.pk
    assert body["figures"]["visits"] == 2
    assert [u["region"]["id"] for u in body["units"]] == [data.grid1.pk, data.grid2.pk]
    assert [w["name"] for w in body["workers"]] == ["grid1"]
    assert login(data.grid2_user).get(f"/api/fieldwork/compliance?region={data.grid1.pk}").status_code == 404
    r = login(data.resident1).get("/api/fieldwork/compliance")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
