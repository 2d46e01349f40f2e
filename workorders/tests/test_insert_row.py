"""linli.db.insert_row writes a new order, transition and notice exactly as Model.save() does."""

import pytest
from django.db.models import DateTimeField
from django.db.models.signals import post_save

from linli.db import insert_row
from workorders.models import Notification, Source, Transition, WorkOrder
from workorders.services import orders as wo
from workorders.testing import make_categories

pytestmark = pytest.mark.django_db

SKIP = {"id", "token", "order_id", "reporter_phone_enc"}  # the phone: a fresh nonce per encryption


def _stored(model, pk):
    row = model.objects.filter(pk=pk).values().get()
    return {k: v for k, v in row.items() if k not in SKIP}


def _order(world, cats):
    return wo._open(
        actor=world.resident1, category=cats["litter"], source=Source.PORTAL, title="", description="楼下垃圾堆了三天",
        region=world.grid1, lat=31.305, lng=120.605, address="平江路1号", attributes={"amount": "large"}, urgent=True,
        resident=None, resident_id=world.resident1.resident_id, reporter_name="张三", reporter_phone="13800001234",
    )


def test_an_order_its_transition_and_a_notice_are_stored_as_save_stores_them(world):
    cats = make_categories(world)
    saved, fast = _order(world, cats), _order(world, cats)
    for f in WorkOrder._meta.concrete_fields:  # the same moments (each _open read the clock)
        if isinstance(f, DateTimeField) and not f.auto_now:
            setattr(fast, f.attname, getattr(saved, f.attname))
    saved.save()
    insert_row(fast)
    assert fast.pk and fast.pk != saved.pk and not fast._state.adding
    a, b = _stored(WorkOrder, saved.pk), _stored(WorkOrder, fast.pk)
    assert a.pop("updated_at") and b.pop("updated_at")  # auto_now: each its own moment
    assert a == b
    assert WorkOrder.objects.get(pk=fast.pk).reporter_phone() == "13800001234"  # encrypted and read back

    t1 = Transition(order=saved, action="report", from_status="", to_status="reported", actor=world.resident1, at=saved.reported_at, data={"source": "portal"})
    t1.save()
    t2 = insert_row(Transition(order=fast, action="report", from_status="", to_status="reported", actor=world.resident1, at=saved.reported_at, data={"source": "portal"}))
    assert _stored(Transition, t1.pk) == _stored(Transition, t2.pk)

    n1 = Notification.objects.create(user=world.community1, order=saved, verb="reported", text="新工单", at=saved.reported_at)
    n2 = insert_row(Notification(user=world.community1, order=fast, verb="reported", text="新工单", at=saved.reported_at))
    assert _stored(Notification, n1.pk) == _stored(Notification, n2.pk)


def test_it_sends_the_save_signals_with_created_true(world):
    cats = make_categories(world)
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((sender, instance.pk, created))

    post_save.connect(receiver, sender=WorkOrder)
    try:
        order = insert_row(_order(world, cats))
    finally:
        post_save.disconnect(receiver, sender=WorkOrder)
    assert seen == [(WorkOrder, order.pk, True)]


def test_a_row_with_a_chosen_id_goes_through_save(world):
    cats = make_categories(world)
    order = _order(world, cats)
    order.pk = 987654
    insert_row(order)
    assert WorkOrder.objects.filter(pk=987654).exists()
