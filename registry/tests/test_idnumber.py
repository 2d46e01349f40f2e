import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.errors import DomainError
from registry.services import idnumber


def test_it_accepts_the_standard_test_vector():
    info = idnumber.parse("11010519491231002X")
    assert info.birth_date == dt.date(1949, 12, 31) and info.gender == "F"


def test_it_cleans_full_width_digits_spaces_and_lowercase_x():
    assert idnumber.parse(" １１０１０５ １９４９１２３１００２ｘ ").number == "11010519491231002X"


def test_it_upgrades_a_15_digit_number():
    info = idnumber.parse("110105491231002")
    assert info.number == "11010519491231002X" and info.upgraded_from == "110105491231002"


@pytest.mark.parametrize(
    "raw, code",
    [
        ("110105194912310021", "id_number_checksum"),
        ("11010519491331002X", "id_number_birth_date"),
        ("11010520991231002X", "id_number_birth_date"),
        ("1101051949123100", "id_number_length"),
        ("99010519491231002X", "id_number_region"),
        ("", "id_number_missing"),
    ],
)
def test_it_refuses_bad_numbers_with_a_reason(raw, code):
    with pytest.raises(DomainError) as e:
        idnumber.parse(raw)
    assert e.value.code == code
    assert e.value.text("zh-hans") and e.value.text("en")


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)),
    st.sampled_from("MF"),
    st.integers(min_value=0, max_value=499),
)
def test_made_numbers_parse_back_to_the_same_person(birth, gender, seq):
    info = idnumber.parse(idnumber.make("320508", birth, gender, seq))
    assert info.birth_date == birth and info.gender == gender
