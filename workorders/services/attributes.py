"""Checking the details a reporter gives against the category's attribute schema (Open311)."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from linli.errors import DomainError

from ..models import Category, Datatype


def schema(category: Category) -> list:
    return [a for a in category.attributes.all() if a.variable]


def validate(category: Category, raw: dict | None) -> dict:
    """Clean `raw` ({code: value}) into stored values; the first problem is refused with the
    attribute's question in the message. Unknown codes are refused too (a typo would otherwise
    silently lose what the reporter said)."""
    raw = dict(raw or {})
    attrs = schema(category)
    known = {a.code for a in attrs}
    unknown = sorted(k for k in raw if k not in known)
    if unknown:
        raise DomainError(
            "attribute_unknown", _("This category has no detail called %(code)s."), field=f"attribute[{unknown[0]}]", code=unknown[0]
        )
    out = {}
    for a in attrs:
        value = raw.get(a.code)
        if isinstance(value, str):
            value = value.strip()
        empty = value is None or value == "" or value == []
        if empty:
            if a.required:
                raise DomainError(
                    "attribute_required", _("Please answer: %(question)s"), field=f"attribute[{a.code}]", question=a.description
                )
            continue
        out[a.code] = _clean(a, value)
    return out


def _bad(a, message):
    return DomainError("attribute_invalid", message, field=f"attribute[{a.code}]", question=a.description)


def _clean(a, value):
    keys = {str(v.get("key")) for v in a.values or []}
    if a.datatype == Datatype.NUMBER:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise _bad(a, _("%(question)s: give a number."))
        if not number.is_finite():
            raise _bad(a, _("%(question)s: give a number."))
        return int(number) if number == number.to_integral_value() else float(number)
    if a.datatype == Datatype.DATETIME:
        when = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
        if when is None:
            raise _bad(a, _("%(question)s: give a date and time such as 2026-05-01T09:30+08:00."))
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        return when.isoformat()
    if a.datatype == Datatype.SINGLEVALUELIST:
        if isinstance(value, list):
            if len(value) != 1:
                raise _bad(a, _("%(question)s: choose one of the listed answers."))
            value = value[0]
        if str(value) not in keys:
            raise _bad(a, _("%(question)s: choose one of the listed answers."))
        return str(value)
    if a.datatype == Datatype.MULTIVALUELIST:
        values = value if isinstance(value, list) else [v for v in str(value).split(",") if v.strip()]
        values = [str(v).strip() for v in values]
        if not values or any(v not in keys for v in values):
            raise _bad(a, _("%(question)s: choose from the listed answers."))
        return sorted(set(values), key=values.index)
    text = str(value)
    limit = 200 if a.datatype == Datatype.STRING else 4000
    if len(text) > limit:
        raise _bad(a, _("%(question)s: the answer is too long."))
    return text
