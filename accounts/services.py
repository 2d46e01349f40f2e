"""Account actions that change data: API tokens.

A token is 32 random bytes shown once to the caller; only its SHA-256 is stored, so a stolen
database does not hand out sessions.
"""

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

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
