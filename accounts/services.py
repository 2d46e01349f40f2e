"""Account actions that change data: API tokens, unlocking a locked sign-in.

A token is 32 random bytes shown once to the caller; only its SHA-256 is stored, so a stolen
database does not hand out sessions.
"""

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.errors import Forbidden

from .models import ApiToken


@transaction.atomic
def issue_token(user, *, days: int | None = None) -> tuple[str, ApiToken]:
    """A new bearer token for `user`: (the plain key, its stored row)."""
    key = secrets.token_urlsafe(32)
    lifetime = dt.timedelta(days=days if days is not None else settings.LINLI_TOKEN_DAYS)
    row = ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key), expires_at=timezone.now() + lifetime)
    # Expired tokens of this user are of no use to anyone; clear them while we are here.
    ApiToken.objects.filter(user=user, expires_at__lte=timezone.now()).delete()
    return key, row


@transaction.atomic
def revoke_token(key: str) -> bool:
    """Revoke the token with this plain key; True when one was revoked."""
    deleted, _ = ApiToken.objects.filter(key_hash=ApiToken.hash(key)).delete()
    return deleted > 0


@transaction.atomic
def unlock(actor, attempt_id) -> str | None:
    """Unlock a sign-in locked after too many wrong passwords: the failures recorded for its
    user name and for its address are forgotten. Returns who was unlocked, None if nothing was."""
    from axes.models import AccessAttempt
    from axes.utils import reset

    if not actor.has_perm("accounts.unlock"):
        raise Forbidden("forbidden", _("You may not unlock sign-ins."))
    try:
        attempt = AccessAttempt.objects.get(pk=int(attempt_id))
    except (AccessAttempt.DoesNotExist, TypeError, ValueError):
        return None
    reset(username=attempt.username)
    reset(ip=attempt.ip_address)
    return attempt.username or attempt.ip_address
