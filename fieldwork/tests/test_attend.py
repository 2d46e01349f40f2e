import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fieldwork.models import Attendance
from fieldwork.services import attend
from linli.errors import DomainError, NotFound
from workorders import services as wo
from workorders.models import Category, Notification, Source, Stage, WorkOrder
from workorders.services.seed import seed_categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(world):
    seed_categories()
    return world


def _dispute(w, ago_minutes=0, **kw):
    order = wo.report(
        w.resident1, category=Category.objects.get(code="incident.dispute"), region=w.grid1, title="楼上楼下漏水吵架",
        description="两户因漏水争吵", **kw,
    )
    if ago_minutes:
        WorkOrder.objects.filter(pk=order.pk).update(reported_at=order.reported_at - dt.timedelta(minutes=ago_minutes))
        order.refresh_from_db()
    return order


def test_arrival_is_timed_from_the_report_and_a_second_arrival_returns_the_first(city):
    order = _dispute(city, ago_minutes=60)
    later = order.reported_at + dt.timedelta(minutes=12)
    a = attend.arrive(city.grid1_user, order.pk, arrived_at=later, lat="31.305", lng="120.605", client_key="k1")
    assert a.seconds == 12 * 60 and a.worker == city.grid1_user and a.region == city.grid1
    again = attend.arrive(city.community1, order.pk, arrived_at=later + dt.timedelta(minutes=5))
    assert again.pk == a.pk and again.worker == city.grid1_user
    assert Attendance.objects.count() == 1


def test_only_the_grid_and_its_community_attend_and_only_must_attend_orders(city):
    order = _dispute(city)
    with pytest.raises(NotFound):
        attend.arrive(city.grid2_user, order.pk)  # another grid: not even visible
    with pytest.raises(DomainError) as e:
        attend.arrive(city.street1, order.pk)
    assert e.value.code == "outside_grid"
    litter = wo.report(city.resident1, category=Category.objects.get(code="env.posting"), region=city.grid1, description="小广告")
    with pytest.raises(DomainError) as e:
        attend.arrive(city.grid1_user, litter.pk)
    assert e.value.code == "not_must_attend"
    with pytest.raises(DomainError) as e:
        attend.arrive(city.grid1_user, order.pk, arrived_at=order.reported_at - dt.timedelta(minutes=1))
    assert e.value.code == "arrival_before_report"
    assert not Attendance.objects.exists()


def test_the_attend_page_lists_open_must_attend_orders_and_records_the_arrival(city, login):
    order = _dispute(city)
    client = login(city.grid1_user)
    html = client.get(reverse("fieldwork:attend_list")).content.decode()
    assert order.title in html and 'data-queue="attend"' in html and reverse("fieldwork:attend_arrive", args=[order.pk]) in html
    assert order.title not in login(city.grid2_user).get(reverse("fieldwork:attend_list")).content.decode()
    client = login(city.grid1_user)
    r = client.post(reverse("fieldwork:attend_arrive", args=[order.pk]), {"client_key": "k-web", "lat": "", "lng": ""})
    assert r.status_code == 302
    assert Attendance.objects.get().order == order
    html = client.get(reverse("fieldwork:attend_list")).content.decode()
    assert reverse("fieldwork:attend_arrive", args=[order.pk]) not in html and "grid1" in html


def test_the_must_attend_notification_opens_the_order(city, login):
    order = _dispute(city)
    n = Notification.objects.get(user=city.grid1_user, verb="must_attend")
    assert n.order == order
    r = login(city.grid1_user).post(reverse("workorders:notification_open", args=[n.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("workorders:detail", args=[order.pk])


def test_arrival_over_the_api_is_idempotent(city, login):
    order = _dispute(city)
    client = login(city.grid1_user)
    first = client.post(f"/api/fieldwork/attend/{order.pk}", {"note": "已到场"}, content_type="application/json")
    again = client.post(f"/api/fieldwork/attend/{order.pk}", {}, content_type="application/json")
    assert first.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert login(city.grid2_user).post(f"/api/fieldwork/attend/{order.pk}", {}, content_type="application/json").status_code == 404


def test_attendance_figures_count_orders_attended_and_on_time(city):
    quick, slow, missed = _dispute(city, 90), _dispute(city, 90), _dispute(city, 90)
    attend.arrive(city.grid1_user, quick, arrived_at=quick.reported_at + dt.timedelta(minutes=10))
    attend.arrive(city.grid1_user, slow, arrived_at=slow.reported_at + dt.timedelta(minutes=50))
    now = timezone.now()
    stats = attend.attendance_stats(city.community.path, now - dt.timedelta(days=1), now)
    assert stats == {"orders": 3, "attended": 2, "on_time": 1, "mean_seconds": 30 * 60, "longest_seconds": 50 * 60}
    assert missed.pk  # reported and never attended


def test_a_key_person_arrival_reaches_the_community_with_a_deadline(city, login):
    client = login(city.grid1_user)
    page = client.get(reverse("fieldwork:quick_report", args=["arrival"])).content.decode()
    assert 'data-queue="report"' in page and "人员姓名" in page
    r = client.post(reverse("fieldwork:quick_report", args=["arrival"]), {
        "form": "arrival", "category": "incident.key_arrival", "client_key": "arr-1",
        "attribute[person]": "刘某", "attribute[from_place]": "外省", "attribute[arrived_on]": "2026-11-20T18:00",
    })
    assert r.status_code == 302
    order = WorkOrder.objects.get()
    assert order.category.code == "incident.key_arrival" and order.source == Source.GRID
    assert order.handler_region == city.community and order.region == city.grid1
    assert order.stage == Stage.FILE and order.due_at is not None
    assert (order.due_at - order.reported_at) <= dt.timedelta(minutes=30) and order.deadline is not None
    assert order.attributes["person"] == "刘某"
    # The same key again (the phone's queue replaying it): the same order.
    again = attend.quick_report(city.grid1_user, form="arrival", client_key="arr-1", **{"attributes": {"person": "x", "from_place": "y", "arrived_on": "2026-11-20T18:00"}})
    assert again.pk == order.pk and WorkOrder.objects.count() == 1


def test_a_hazard_report_needs_a_description_and_a_category_of_its_form(city, login):
    client = login(city.grid1_user)
    r = client.post(reverse("fieldwork:quick_report", args=["hazard"]), {"form": "hazard", "client_key": "h-1"})
    assert r.status_code == 200 and "field-error" in r.content.decode()
    with pytest.raises(DomainError) as e:
        attend.quick_report(city.grid1_user, form="hazard", category="demand.parking", description="停车难")
    assert e.value.code == "category_not_in_form"
    r = client.post(reverse("fieldwork:quick_report", args=["hazard"]), {
        "form": "hazard", "category": str(Category.objects.get(code="safety.hazard").pk), "description": "配电箱门坏了，电线外露",
        "attribute[risk]": "high", "urgent": "1", "client_key": "h-2",
    })
    assert r.status_code == 302
    order = WorkOrder.objects.get()
    assert order.category.code == "safety.hazard" and order.priority == "urgent" and order.handler_region == city.community
    assert order.client == "fw:h-2"


def test_quick_reports_are_for_field_staff_inside_their_grid(city, login):
    assert login(city.resident1).get(reverse("fieldwork:quick_report", args=["hazard"])).status_code == 403
    assert login(city.grid1_user).get(reverse("fieldwork:quick_report", args=["nonsense"])).status_code == 404
    with pytest.raises(DomainError) as e:
        attend.quick_report(city.grid1_user, form="hazard", description="x", region=city.grid2.pk)
    assert e.value.code == "outside_grid"
    # A point that falls in another grid is refused too, and nothing is kept.
    with pytest.raises(DomainError):
        attend.quick_report(city.grid1_user, form="hazard", description="x", lat=31.305, lng=120.615)
    assert not WorkOrder.objects.exists()


def test_the_hazard_form_carries_every_categorys_questions_so_it_works_offline(city, login):
    import re

    client = login(city.grid1_user)
    page = client.get(reverse("fieldwork:quick_report", args=["hazard"])).content.decode()
    assert "hx-get" not in page and 'data-attributes="attributes"' in page
    offered = [int(pk) for pk in re.findall(r'<option value="(\d+)"', page)]
    kept = [int(pk) for pk in re.findall(r'<template data-attributes-for="(\d+)">', page)]
    assert offered and kept == offered
    # Each template holds its category's own questions.
    for category in Category.objects.filter(pk__in=offered).prefetch_related("attributes"):
        block = page.split(f'<template data-attributes-for="{category.pk}">', 1)[1].split("</template>", 1)[0]
        for a in category.attributes.all():
            if a.variable:
                assert f'name="attribute[{a.code}]"' in block
    # A form with one fixed category needs none.
    arrival = client.get(reverse("fieldwork:quick_report", args=["arrival"])).content.decode()
    assert "<template data-attributes-for" not in arrival
