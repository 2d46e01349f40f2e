"""Citizen ID numbers (GB 11643-1999).

18 characters: 6-digit address code, 8-digit birth date, 3-digit sequence (odd = male),
check character. Legacy 15-digit numbers (2-digit year, no check) are upgraded on input.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from linli.errors import DomainError
from linli.pii import clean_text

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
# First two digits: provinces, autonomous regions, municipalities; 71 Taiwan, 81/82 HK/Macao,
# 83 for Taiwan residents' permits.
PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
}


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: dt.date
    gender: str  # "M" or "F"
    upgraded_from: str = ""


def check_char(first17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def clean(raw) -> str:
    text = clean_text(raw).replace(" ", "").upper()
    if text.endswith(".0") and text[:-2].isdigit():  # a number cell read from Excel
        text = text[:-2]
    return text


def _bad(code, message, **params):
    return DomainError(code, message, field="id_number", **params)


def parse(raw, *, today: dt.date | None = None) -> IdNumber:
    """Clean, upgrade and validate an ID number. Raises DomainError with a clear message."""
    text = clean(raw)
    if not text:
        raise _bad("id_number_missing", _("ID number is missing."))
    upgraded_from = ""
    if len(text) == 15:
        if not text.isdigit():
            raise _bad("id_number_format", _("A 15-digit ID number must be all digits."))
        upgraded_from = text
        body = text[:6] + "19" + text[6:]
        text = body + check_char(body)
    if len(text) != 18:
        raise _bad(
            "id_number_length",
            _("ID number must have 18 characters (or 15 for an old one); got %(n)s."),
            n=len(text),
        )
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise _bad("id_number_format", _("ID number may contain only digits and a final X."))
    if text[:2] not in PROVINCES:
        raise _bad("id_number_region", _("ID number starts with an unknown province code %(p)s."), p=text[:2])
    try:
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise _bad("id_number_birth_date", _("ID number holds an impossible birth date %(d)s."), d=text[6:14])
    today = today or dt.date.today()
    if birth > today or birth.year < 1890:
        raise _bad("id_number_birth_date", _("ID number holds an impossible birth date %(d)s."), d=text[6:14])
    expected = check_char(text[:17])
    if text[17] != expected:
        raise _bad("id_number_checksum", _("ID number check character is wrong (expected %(c)s)."), c=expected)
    gender = "M" if int(text[16]) % 2 else "F"
    return IdNumber(text, birth, gender, upgraded_from)


def make(address6: str, birth: dt.date, gender: str, seq: int) -> str:
    """Build a valid 18-digit number (demo data and tests). seq in 0..499."""
    order = seq * 2 + (1 if gender == "M" else 0)
    order = order % 1000 if order % 1000 else (1 if gender == "M" else 2)
    body = f"{address6}{birth:%Y%m%d}{order:03d}"
    return body + check_char(body)
