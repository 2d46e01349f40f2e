
import pytest

from linli import pii


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




