"""Private files (photos, reports, certificates): how a view that has checked who may see a file
hands it out. No file is ever served from a public address.

The view decides; this module only delivers, the way the deployment is set up
(LINLI_FILE_SERVING):
- "django" (default, and the embedded `make run`): the web process streams the file itself;
- "accel": behind nginx, an `X-Accel-Redirect` to LINLI_ACCEL_PREFIX (an `internal` location that
  aliases MEDIA_ROOT; README, "Production"), so nginx sends the bytes;
- "sendfile": behind Apache or lighttpd, an `X-Sendfile` header with the file's path;
- with S3-compatible storage (LINLI_S3_BUCKET) the answer is a redirect to a presigned URL that
  expires after LINLI_FILE_URL_SECONDS.

Files anyone may see without signing in (the photo of a public Open311 request) get a signed,
expiring address instead: `signed_token()` / `read_token()`.
"""

import mimetypes
import os
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect


def _storage_path(field_file) -> str | None:
    try:
        return field_file.path
    except (NotImplementedError, AttributeError, ValueError):
        return None  # remote storage (S3)


def _content_type(name: str, content_type: str = "") -> str:
    return content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"


def serve(field_file, *, name: str = "", content_type: str = "", attachment: bool = False) -> HttpResponse:
    """The answer that hands out `field_file` (a FieldFile or a storage name wrapped in one)
    once the caller has checked the user may see it."""
    if not field_file:
        raise Http404
    name = name or os.path.basename(field_file.name)
    ctype = _content_type(name, content_type)
    path = _storage_path(field_file)
    if path is None:  # object storage: a short-lived presigned address
        return HttpResponseRedirect(field_file.storage.url(field_file.name, expire=settings.LINLI_FILE_URL_SECONDS))
    if not os.path.exists(path):
        raise Http404
    disposition = f"{'attachment' if attachment else 'inline'}; filename*=UTF-8''{quote(name)}"
    mode = settings.LINLI_FILE_SERVING
    if mode in ("accel", "sendfile"):
        response = HttpResponse(content_type=ctype)
        if mode == "accel":
            relative = os.path.relpath(path, settings.MEDIA_ROOT)
            response["X-Accel-Redirect"] = settings.LINLI_ACCEL_PREFIX.rstrip("/") + "/" + quote(relative)
        else:
            response["X-Sendfile"] = path
    else:
        response = FileResponse(open(path, "rb"), content_type=ctype)
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def signed_token(purpose: str, value) -> str:
    """An unguessable, tamper-proof token naming `value` for `purpose` (it expires: read_token)."""
    return signing.dumps(value, salt=f"linli.files.{purpose}", compress=True)


def read_token(purpose: str, token: str, max_age: int | None = None):
    """The value a token names, or Http404 when it is forged, for another purpose or expired."""
    try:
        return signing.loads(token, salt=f"linli.files.{purpose}", max_age=max_age or settings.LINLI_FILE_URL_SECONDS)
    except signing.BadSignature:
        raise Http404
