import base64
import os

import pytest
from django.core.management import call_command

from linli import pii
from registry.models import Resident


def test_masks_look_like_the_rules():
    assert pii.mask_id_number("32010219900101123X") == "3201**********123X"
    assert pii.mask_phone("13812345678") == "138****5678"


def test_encryption_round_trips_and_is_bound_to_its_field():
    token = pii.encrypt("32010219900101123X", b"a")
    assert token.startswith(pii.current_kid() + "$")
    assert pii.decrypt(token, b"a") == "32010219900101123X"
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        pii.decrypt(token, b"b")
    assert pii.encrypt("x", b"a") != pii.encrypt("x", b"a")  # fresh nonce each time


def test_blind_index_is_deterministic_and_keyed():
    assert pii.blind_index("13812345678", "phone") == pii.blind_index("13812345678", "phone")
    assert pii.blind_index("13812345678", "phone") != pii.blind_index("13812345678", "id_number")
    assert "13812345678" not in pii.blind_index("13812345678", "phone")


def test_phone_numbers_are_cleaned():
    assert pii.normalize_phone("１３８ １２３４ ５６７８") == "13812345678"
    assert pii.normalize_phone("+86 138-1234-5678") == "13812345678"
    assert pii.normalize_phone("0512-6512 3456") == "051265123456"
    with pytest.raises(ValueError):
        pii.normalize_phone("12345")


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
