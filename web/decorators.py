"""The wrapper every signed-in page shares: login, an optional permission or check, and the
access layer's refusals turned into the HTTP answers pages give (404 for "not found, or outside
your area", 403 for "not allowed")."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from linli.errors import DomainError, Forbidden, NotFound


def raise_access(error: DomainError):
    """Scope and permission refusals are not form messages: answer 404 / 403 for them and
    return for any other refusal (the page shows it at the form)."""
    if isinstance(error, NotFound) or error.status == 404:
        raise Http404
    if isinstance(error, Forbidden) or error.status == 403:
        raise PermissionDenied


def page(perm: str | None = None, allow=None):
    """Login required; `perm` (a rules permission) and `allow(user)` must hold, else 403; a
    scope or permission refusal raised inside the view answers 404 / 403."""

    def deco(fn):
        @login_required
        @wraps(fn)
        def inner(request, *args, **kwargs):
            if perm and not request.user.has_perm(perm):
                raise PermissionDenied
            if allow is not None and not allow(request.user):
                raise PermissionDenied
            try:
                return fn(request, *args, **kwargs)
            except DomainError as error:
                raise_access(error)
                raise

        return inner

    return deco
