"""Rotating the data key: every encrypted column of every app is re-encrypted under the new key,
so the old key can be dropped."""

import base64
import os

from django.core.management import call_command

from linli import pii
from registry.models import Resident


def test_rotating_the_data_key_reencrypts_every_row(world, settings):
    r = world.g1.residents[0]
    number, phone = r.reveal_id_number(), r.reveal_phone()
    new_key = base64.b64encode(os.urandom(32)).decode()
    settings.LINLI_DATA_KEYS = settings.LINLI_DATA_KEYS + ",k2:" + new_key
    settings.LINLI_DATA_KEY_ID = "k2"
    pii.reset_key_cache()
    try:
        call_command("rotate_data_key")
        r = Resident.objects.get(pk=r.pk)
        assert pii.key_id_of(r.id_number_enc) == "k2" and pii.key_id_of(r.phone_enc) == "k2"
        assert r.reveal_id_number() == number and r.reveal_phone() == phone
        assert not Resident.objects.exclude(id_number_enc__startswith="k2$").exists()
        # the old key can now be dropped
        settings.LINLI_DATA_KEYS = "k2:" + new_key
        pii.reset_key_cache()
        assert Resident.objects.get(pk=r.pk).reveal_id_number() == number
    finally:
        pii.reset_key_cache()



def test_rotating_the_data_key_reaches_every_encrypted_column_of_every_app(world, settings):
    """Not only the registry: a work order's reporter phone (and every model that names its
    encrypted columns) is re-encrypted too, or it could not be read once the old key is gone."""
    from django.apps import apps
    from django.utils import timezone

    from workorders.models import Category, Kind, Source, WorkOrder

    declared = {m._meta.label for m in apps.get_models() if getattr(m, "ENCRYPTED_FIELDS", None)}
    assert {"registry.Resident", "registry.Organization", "workorders.WorkOrder", "mediation.Party", "fieldwork.GridProfile"} <= declared
    for model in apps.get_models():
        columns = {f.name for f in model._meta.concrete_fields if f.name.endswith("_enc")}
        assert columns == set(getattr(model, "ENCRYPTED_FIELDS", {})), f"{model._meta.label} must declare its encrypted columns"

    category = Category.objects.create(kind=Kind.INCIDENT, code="t.rotate", name="测试")
    order = WorkOrder(category=category, kind=Kind.INCIDENT, source=Source.HOTLINE, title="t", reported_at=timezone.now())
    order.set_region(world.grid1)
    order.set_handler(world.community)
    order.set_reporter_phone("13800001111")
    order.save()
    new_key = base64.b64encode(os.urandom(32)).decode()
    settings.LINLI_DATA_KEYS = settings.LINLI_DATA_KEYS + ",k3:" + new_key
    settings.LINLI_DATA_KEY_ID = "k3"
    pii.reset_key_cache()
    try:
        call_command("rotate_data_key")
        settings.LINLI_DATA_KEYS = "k3:" + new_key
        pii.reset_key_cache()
        assert WorkOrder.objects.get(pk=order.pk).reporter_phone() == "13800001111"
    finally:
        pii.reset_key_cache()

