import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fieldwork.services import dues, record_visit
from registry import services as reg

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 21)
NOW = timezone.make_aware(dt.datetime(2026, 11, 21, 10, 0))


@pytest.fixture
def clock(monkeypatch):
    """A fixed Saturday in the middle of the quarter: the first quarterly visit was due on 15 Nov."""
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return TODAY


@pytest.fixture
def grid1(world, clock):
    reg.add_tag(None, world.g1.residents[2], "empty_nest")  # the tenant's household
    dues.recompute_all(TODAY)
    return world


def test_the_due_list_shows_overdue_then_due_then_done_with_the_reasons(grid1, login):
    w = grid1
    hh1, hh2 = w.g1.households
    record_visit(w.grid1_user, household=hh1, visited_at=NOW - dt.timedelta(hours=1), met=[w.g1.residents[0].pk])
    html = login(w.grid1_user).get(reverse("fieldwork:due")).content.decode()
    overdue = html.index('id="overdue"')
    due = html.index('id="due"')
    done = html.index('id="done"')
    # hh2 (empty-nest tenant, nothing done) is overdue; hh1 has done 1 of 2 this quarter.
    assert overdue < html.index("2单元202室") < due < html.index("1单元101室") < done
    assert "空巢" in html and "三必" in html and "1/2" in html
    assert "逾期 6 天" in html or "overdue 6 days" in html
    assert reverse("fieldwork:visit_new", args=[hh2.pk]) in html
    assert "2026-11-21" in html  # hh1's last visit


def test_a_household_visited_enough_moves_to_done(grid1, login):
    w = grid1
    hh1 = w.g1.households[0]
    for hours in (30, 2):
        record_visit(w.grid1_user, household=hh1, visited_at=NOW - dt.timedelta(hours=hours), nobody_home=True)
    client = login(w.grid1_user)
    html = client.get(reverse("fieldwork:due")).content.decode()
    assert html.index('id="done"') < html.index("1单元101室")
    rows = client.get("/api/fieldwork/due").json()
    states = {r["household_id"]: r["state"] for r in rows["items"]}
    assert states == {hh1.pk: "done", w.g1.households[1].pk: "overdue"}
    assert rows["counts"] == {"overdue": 1, "due": 0, "done": 1}


def test_the_due_page_searches_by_room_and_costs_a_few_queries(grid1, login, django_assert_max_num_queries):
    client = login(grid1.grid1_user)
    client.get(reverse("fieldwork:due"))  # warm the rule cache and the session
    with django_assert_max_num_queries(12):
        html = client.get(reverse("fieldwork:due"), {"q": "202"}).content.decode()
    assert "2单元202室" in html and "1单元101室" not in html


def test_a_community_worker_reads_a_grid_list_without_visit_buttons(grid1, login):
    w = grid1
    client = login(w.community1)
    html = client.get(reverse("fieldwork:due"), {"grid": w.grid2.pk}).content.decode()
    assert "测试小区2" in html and "测试小区1" not in html
    assert reverse("fieldwork:visit_new", args=[w.g2.households[0].pk]) in html  # community staff visit too
    html = login(w.street1).get(reverse("fieldwork:due"), {"grid": w.grid3.pk}).content.decode()
    assert "测试小区3" in html and reverse("fieldwork:visit_new", args=[w.g3.households[0].pk]) not in html


def test_a_grid_outside_the_area_and_a_resident_are_refused(grid1, login):
    w = grid1
    assert login(w.grid2_user).get(reverse("fieldwork:due"), {"grid": w.grid1.pk}).status_code == 404
    assert login(w.resident1).get(reverse("fieldwork:due")).status_code == 403
    assert login(w.grid2_user).get("/api/fieldwork/due", {"grid_id": w.grid1.pk}).status_code == 404


def test_the_due_list_pages_fifty_households(world, clock, login):
    b = world.g1.building
    for i in range(60):
        house = reg.create_house(None, building=b, unit=2, room=f"{300 + i}")
        reg.create_household(None, house=house)
    dues.recompute_all(TODAY)
    client = login(world.grid1_user)
    first = client.get(reverse("fieldwork:due")).content.decode()
    assert first.count('class="fw-row ') == 50 and "1 / 2" in first
    second = client.get(reverse("fieldwork:due"), {"page": 2}).content.decode()
    assert second.count('class="fw-row ') == 12


def test_a_worker_of_two_grids_filters_the_list_by_grid(grid1, login):
    from accounts.models import Role, RoleAssignment

    w = grid1
    RoleAssignment.objects.create(user=w.grid1_user, role=Role.GRID_WORKER, region=w.grid2, region_path=w.grid2.path)
    client = login(w.grid1_user)
    both = client.get(reverse("fieldwork:due")).content.decode()
    assert "测试小区1" in both and "测试小区2" in both and 'id="grid"' in both
    only2 = client.get(reverse("fieldwork:due"), {"grid": w.grid2.pk}).content.decode()
    assert "测试小区2" in only2 and "测试小区1" not in only2
