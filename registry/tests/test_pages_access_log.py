import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import PersonalDataAccess, Role
from registry import services as reg
from registry.testing import make_user


@pytest.fixture
def reveals(world):
    """community1 looks at a grid1 resident; a worker of community2 at a grid3 resident."""
    other = make_user("community2", Role.COMMUNITY_WORKER, world.community2)
    a = reg.reveal(world.community1, world.g1.residents[0], "id_number", ip="10.0.0.5", reason="核对低保申请")
    b = reg.reveal(other, world.g3.residents[0], "phone", ip="10.0.0.7", reason="联系家属")
    return a, b, other


@pytest.mark.django_db
def test_street_officer_sees_the_reveals_of_the_street_newest_first(world, login, reveals):
    html = login(world.street1).get(reverse("accounts:access_log")).content.decode()
    assert "核对低保申请" in html and "联系家属" in html
    assert html.index("联系家属") < html.index("核对低保申请")  # newest first
    assert "10.0.0.5" in html and "community1" in html
    assert reverse("registry:resident_detail", args=[world.g1.residents[0].pk]) in html


@pytest.mark.django_db
def test_the_log_is_scoped_to_the_viewers_area(world, login, reveals):
    from regions import services as rs

    street2 = rs.create_region(None, parent=world.district, code="320508002000", name="观前街道")
    officer2 = make_user("street2", Role.STREET_OFFICER, street2)
    r = login(officer2).get(reverse("accounts:access_log"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "核对低保申请" not in html and "联系家属" not in html
    assert "没有查看个人信息的记录" in html


@pytest.mark.django_db
def test_grid_and_community_workers_may_not_read_the_log(world, login, reveals):
    assert login(world.grid1_user).get(reverse("accounts:access_log")).status_code == 403
    assert login(world.community1).get(reverse("accounts:access_log")).status_code == 403
    assert login(world.resident1).get(reverse("accounts:access_log")).status_code == 403


@pytest.mark.django_db
def test_filter_by_user_name_and_dates(world, login, reveals):
    client = login(world.street1)
    html = client.get(reverse("accounts:access_log"), {"user": "community1"}).content.decode()
    assert "核对低保申请" in html and "联系家属" not in html
    today = timezone.localdate()
    html = client.get(reverse("accounts:access_log"), {"date_from": today.isoformat(), "date_to": today.isoformat()}).content.decode()
    assert "核对低保申请" in html and "联系家属" in html
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    html = client.get(reverse("accounts:access_log"), {"date_to": yesterday}).content.decode()
    assert "核对低保申请" not in html


@pytest.mark.django_db
def test_a_reversed_date_range_is_explained(world, login, reveals):
    r = login(world.street1).get(reverse("accounts:access_log"), {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    html = r.content.decode()
    assert "结束日期早于开始日期。" in html
    assert "核对低保申请" not in html


@pytest.mark.django_db
def test_keyset_pages_walk_the_whole_log_once(world, login):
    resident = world.g1.residents[0]
    PersonalDataAccess.objects.bulk_create(
        PersonalDataAccess(user=world.community1, resident=resident, field="id_number", reason=f"r{i:03d}", region_path=resident.region_path)
        for i in range(120)
    )
    client = login(world.admin)
    seen, url, pages = [], reverse("accounts:access_log"), 0
    while url:
        r = client.get(url)
        pages += 1
        rows = list(r.context["rows"])
        seen += [row.reason for row in rows]
        url = reverse("accounts:access_log") + r.context["next_url"] if r.context["next_url"] else None
    assert pages == 3
    assert seen == [f"r{i:03d}" for i in reversed(range(120))]
