"""The ninja root: authentication, the error answers, and every app's router.

Errors are JSON `{"code", "message", "message_en"[, "field"]}`: a machine code, a Chinese
message and its English twin. Every route declares its error responses with
`linli.schemas.errors(...)`; this root turns DomainError, validation and HTTP errors into them.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.operation import PathView
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer

from accounts import access
from linli.errors import DomainError


def _audit_actor(user):
    """Name the token's user as the actor of audit-log rows written during this request (the
    audit middleware ran before the token was read, when the request was still anonymous)."""
    from auditlog.context import auditlog_value

    context = auditlog_value.get(None)
    if context is not None and context.get("actor") is None:
        context["actor"] = user


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = access.identify(token)
        if user is None:
            return None
        request.user = user
        _audit_actor(user)
        return user


class SessionAuth(APIKeyCookie):
    """The web pages' session, with Django's CSRF check on unsafe methods."""

    param_name = "sessionid"

    def __init__(self):
        super().__init__(csrf=True)

    def _get_key(self, request):
        # No signed-in session: nothing to check CSRF for (a bearer client that sent a bad
        # token gets 401, not a CSRF complaint).
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        if request.user.is_authenticated:
            return request.user
        return None


class LinliAPI(NinjaAPI):
    """NinjaAPI whose unknown paths and unsupported methods also answer in the error format."""

    def _get_urls(self):
        from django.urls import re_path

        def unknown_path(request, *args, **kwargs):
            return _error(request, 404, "not_found", _("There is no such API address."))

        return [*super()._get_urls(), re_path(r"^.*$", unknown_path)]


def _not_allowed_json(self):
    from django.http import JsonResponse

    allowed = sorted({m for op in self.operations for m in op.methods})
    err = DomainError("method_not_allowed", _("Method not allowed."))
    response = JsonResponse(err.as_dict(), status=405, json_dumps_params={"ensure_ascii": False})
    response["Allow"] = ", ".join(allowed)
    return response


# ninja answers an unsupported method with plain text; answer in the error format instead.
PathView._not_allowed = _not_allowed_json


class NotAnObject(Exception):
    """A JSON body that is not an object (a list, a string, a number, null)."""


class ObjectParser(Parser):
    """Every JSON body is an object of its route's schema: a list or a bare value is refused
    (422) before any field of it is read, so `[null, null]` cannot pass for an empty object."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise NotAnObject
        return data


api = LinliAPI(
    parser=ObjectParser(),
    title="Linli API",
    version="1",
    description="Community governance platform. Authenticate with POST /api/auth/token, then send "
    "`Authorization: Bearer <token>`.",
    auth=[BearerToken(), SessionAuth()],
    urls_namespace="api",
)


def _error(request, status: int, code: str, message, **params):
    err = DomainError(code, message, **params)
    return api.create_response(request, err.as_dict(), status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    loc = [str(x) for x in first.get("loc", []) if x not in ("body", "query", "path", "payload", "form")]
    field = ".".join(loc) or None
    detail = first.get("msg", "")
    return api.create_response(
        request,
        {
            "code": "invalid_input",
            "message": f"输入有误：{field or '请求'} {detail}".strip(),
            "message_en": f"Invalid input: {field or 'request'} {detail}".strip(),
            "field": field,
        },
        status=422,
    )


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request, exc):
    return _error(request, 422, "invalid_form", _("The form data could not be read (a multipart body needs its boundary)."))


@api.exception_handler(OverflowError)
def on_overflow(request, exc):
    return _error(request, 422, "number_out_of_range", _("A number in the request is too large."))


@api.exception_handler(Exception)
def on_server_error(request, exc):
    """Whatever went wrong answers in the error format (the traceback goes to the log, never to
    the client, whether DEBUG is on or off)."""
    import logging

    logging.getLogger("linli.api").exception("Unhandled error on %s %s", request.method, request.path)
    return _error(request, 500, "server_error", _("Something went wrong on the server. Try again; if it persists, tell your administrator."))


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, 401, "unauthenticated", _("Sign in first: send a valid bearer token."))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, NotAnObject):
        return _error(request, 422, "invalid_body", _("The request body must be a JSON object."))
    if exc.status_code == 400 and str(exc.message).startswith("Cannot parse request body"):
        return _error(request, 422, "invalid_json", _("The request body is not valid JSON."))
    if exc.status_code == 403 and "CSRF" in str(exc.message):
        return _error(request, 403, "csrf_failed", _("The page's security token is missing or stale; reload the page."))
    codes = {
        403: ("forbidden", _("You do not have permission for this.")),
        404: ("not_found", _("Not found, or outside your area.")),
        405: ("method_not_allowed", _("Method not allowed.")),
    }
    code, message = codes.get(exc.status_code, ("error", _("The request could not be handled.")))
    return _error(request, exc.status_code, code, message)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "not_found", _("Not found, or outside your area."))


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return _error(request, 403, "forbidden", _("You do not have permission for this."))


def _add_routers():
    from accounts.api import router as accounts_router
    from fieldwork.api import router as fieldwork_router
    from regions.api import router as regions_router
    from registry.api import router as registry_router
    from workorders.api import router as workorders_router

    api.add_router("/auth/", accounts_router)
    api.add_router("/regions/", regions_router)
    api.add_router("/registry/", registry_router)
    api.add_router("/workorders/", workorders_router)
    api.add_router("/fieldwork/", fieldwork_router)


_add_routers()
