"""Keyset pages (linli.paging) over notifications: each page starts right after the cursor row, in
every order the notification lists use (newest first on the moment, by id)."""

import datetime as dt

import pytest
from django.utils import timezone

from linli.paging import keyset
from workorders.models import Notification

pytestmark = pytest.mark.django_db


def _notices(world, moments):
    return [Notification.objects.create(user=world.community1, verb="reported", text=f"{i}", at=at) for i, at in enumerate(moments)]


def _all_pages(qs, order, limit):
    seen, after = [], None
    while True:
        page = keyset(qs, after=after, limit=limit, order=order)
        seen += [row.pk for row in page]
        if page.next_after is None:
            return seen
        after = page.next_after


def test_pages_newest_first_on_a_field_neither_repeat_nor_skip_rows(world):
    now = timezone.now()
    # Two rows share a moment, and ids do not follow the moments.
    rows = _notices(world, [now, now - dt.timedelta(hours=1), now, now + dt.timedelta(hours=1), now - dt.timedelta(hours=2)])
    qs = Notification.objects.filter(user=world.community1)
    expected = list(qs.order_by("-at", "-id").values_list("pk", flat=True))
    assert _all_pages(qs, ("-at", "-id"), 2) == expected
    assert expected[0] == rows[3].pk and expected[-1] == rows[4].pk


def test_pages_oldest_first_on_a_field_and_by_id(world):
    now = timezone.now()
    _notices(world, [now, now - dt.timedelta(hours=1), now, now + dt.timedelta(hours=1)])
    qs = Notification.objects.filter(user=world.community1)
    assert _all_pages(qs, ("at", "id"), 3) == list(qs.order_by("at", "id").values_list("pk", flat=True))
    assert _all_pages(qs, ("-id",), 3) == list(qs.order_by("-id").values_list("pk", flat=True))
