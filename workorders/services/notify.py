"""Notifications: an in-app row for every recipient at once, then email and SMS/WeChat copies
sent by a background job after the transaction commits.

SMS and WeChat template messages go through the backend named in settings.LINLI_MESSAGE_BACKEND;
the development backend writes each message to the log. A production backend implements
`send(user, channel, template, params)` for the operator's gateway.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from linli.db import insert_row

from ..models import Notification

log = logging.getLogger("linli.messages")


class LogMessageBackend:
    """Development backend: the message goes to the log instead of a gateway."""

    def send(self, user, channel: str, template: str, params: dict) -> None:
        log.info("%s to %s [%s] %s", channel, user.username, template, params)


def backend():
    return import_string(getattr(settings, "LINLI_MESSAGE_BACKEND", "workorders.services.notify.LogMessageBackend"))()


# The notices worth an email or SMS as well as the bell: work handed to someone, must-attend
# calls, deadlines and supervision, rework, and the reporter's closed case. A new report rings
# only the desk's bell (a busy desk would otherwise get a message per report).
COPY_VERBS = {"dispatched", "assigned", "escalated", "must_attend", "due_soon", "supervise", "rework", "closed"}


def subject_of(order) -> str:
    """What an order is about, in a few words: its title, else its category."""
    title = (order.title or "").strip()
    return (title if title else order.category.name)[:40]


def send(users, order, verb: str, text, params: dict | None = None) -> list[Notification]:
    """Notify each user once (duplicates and None dropped). `text` is a lazy string, rendered in
    Chinese for the stored row (the UI language of the platform's users)."""
    seen, recipients = set(), []
    for user in users:
        if user is not None and user.pk not in seen and user.is_active:
            seen.add(user.pk)
            recipients.append(user)
    if not recipients:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        rendered = str(text) % params if params else str(text)
    if order is not None and "title" not in (params or {}):
        # A number alone says nothing to a resident: the notice names what it was about.
        rendered = f"【{subject_of(order)}】{rendered}"
    rendered = rendered[:300]
    now = timezone.now()
    rows = [Notification(user=u, order=order, verb=verb, text=rendered, at=now) for u in recipients]
    if len(rows) == 1:
        insert_row(rows[0])  # the usual case: one person at the desk
    else:
        Notification.objects.bulk_create(rows)
    if verb in COPY_VERBS and getattr(settings, "LINLI_NOTIFY_COPIES", True):
        ids = [u.pk for u in recipients]
        order_id = order.pk if order is not None else None
        transaction.on_commit(lambda: _deliver_later(ids, order_id, verb, rendered))
    return rows


def _deliver_later(user_ids, order_id, verb, text):
    from ..tasks import deliver_copies

    deliver_copies(user_ids, order_id, verb, text)


def deliver(user_ids, order_id, verb, text) -> int:
    """Email (users with an address) and SMS/WeChat copies; returns how many were sent."""
    from django.core.mail import send_mail

    from accounts.models import User

    sent = 0
    gateway = backend()
    for user in User.objects.filter(pk__in=user_ids, is_active=True):
        if user.email:
            send_mail(f"[邻里] {text[:60]}", text, None, [user.email], fail_silently=True)
            sent += 1
        gateway.send(user, "sms", verb, {"order": order_id, "text": text})
        sent += 1
    return sent


def mark_read(user, ids=None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def notify_any(users, verb: str, text, params: dict | None = None, link: str = "") -> None:
    """The platform inbox for other apps' notices (linli.hooks.notify): a notice without an
    order."""
    send(users, None, verb, text, params)
