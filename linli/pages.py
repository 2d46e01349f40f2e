"""How a page talks to the services: the wrapper every signed-in page shares, and the one way a
posted form calls a service and shows its refusal.

A view parses, calls, renders. `page()` signs the person in and checks the app's permission;
`submit()` runs a valid form through a service and puts a DomainError on the form's field (the
service changed nothing: it runs in one transaction), except refusals of scope or permission,
which answer 404 / 403 like any page outside the person's area.
"""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .errors import DomainError, Forbidden, NotFound


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


def form_error(form: forms.Form, error: DomainError, aliases: dict | None = None) -> None:
    """Show a service's refusal at the form: on its field (`aliases` maps a service's field name
    to the form's), else above the form. Scope and permission refusals answer 404 / 403."""
    raise_access(error)
    field = (aliases or {}).get(error.field, error.field)
    form.add_error(field if field in form.fields else None, error.text())


class Outcome:
    """What submit() did: true when the service ran; `value` is what it returned."""

    __slots__ = ("ok", "value")

    def __init__(self, ok: bool, value=None):
        self.ok, self.value = ok, value

    def __bool__(self):
        return self.ok


def submit(form: forms.Form, call: Callable[[dict], object], aliases: dict | None = None) -> Outcome:
    """Validate `form` and call the service with its cleaned data; a refusal lands at the form."""
    if not form.is_valid():
        return Outcome(False)
    try:
        return Outcome(True, call(form.cleaned_data))
    except DomainError as error:
        form_error(form, error, aliases)
        return Outcome(False)


class ServiceForm(forms.Form):
    """A form whose rules live in a service: `apply_error` puts its DomainError on a field."""

    def apply_error(self, error: DomainError, aliases: dict | None = None):
        form_error(self, error, aliases)
