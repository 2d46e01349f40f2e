import pytest

from registry.demo import build_demo
from workorders.demo import DEMO_CLIENT, build_demo_orders
from workorders.models import Kind, Rating, Source, Status, SupervisionNotice, Transition, WorkOrder
from workorders.services import window

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def demo_city(db):
    build_demo(residents=300, seed=7)


def test_the_demo_orders_cover_every_desk_and_are_made_once(demo_city):
    result = build_demo_orders(orders=300)
    orders = WorkOrder.objects.filter(client=DEMO_CLIENT)
    assert result["created"] == orders.count() == 300
    statuses = set(orders.values_list("status", flat=True))
    for status in (Status.REPORTED, Status.FILED, Status.DISPATCHED, Status.IN_PROGRESS, Status.CLOSED):
        assert status in statuses, status
    kinds = set(orders.values_list("kind", flat=True))
    assert {Kind.INCIDENT, Kind.DEMAND, Kind.SERVICE, Kind.SUPERVISION} <= kinds
    assert orders.filter(settled_on_spot=True).exists()
    assert orders.filter(source=Source.WINDOW).exists()
    assert Transition.objects.filter(order__in=orders, action=window.ACTION_MISSING).exists()
    assert SupervisionNotice.objects.filter(order__in=orders).exists() and orders.filter(overdue=True).exists()
    assert Rating.objects.filter(order__in=orders).exists()
    assert orders.values("region").distinct().count() > 20  # spread over the city's grids
    # Every order went through the services: each has its report step, and steps in time order.
    assert not orders.exclude(transitions__action__in=["report", "assign_down"]).exists()
    first = orders.order_by("reported_at").first()
    assert (WorkOrder.objects.latest("reported_at").reported_at - first.reported_at).days >= 40

    before = (WorkOrder.objects.count(), Transition.objects.count())
    assert build_demo_orders()["created"] == 0
    assert (WorkOrder.objects.count(), Transition.objects.count()) == before


def test_the_demo_desks_have_work(demo_city, client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    build_demo_orders(orders=150)
    community1 = get_user_model().objects.get(username="community1")
    client.force_login(community1)
    page = client.get(reverse("workorders:window"))
    assert page.status_code == 200
    admin = get_user_model().objects.get(username="admin")
    client.force_login(admin)
    assert client.get(reverse("workorders:config")).status_code == 200
