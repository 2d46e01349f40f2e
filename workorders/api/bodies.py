"""Request bodies of the work-order API: JSON, or a multipart / urlencoded form where a step
takes photos (`files`), details then being `attribute[code]` fields (or `attributes` as JSON);
and how the OpenAPI document describes both."""

import json
import re
from typing import Any

import pydantic
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _
from ninja import Schema
from ninja.errors import ValidationError

from linli.errors import DomainError

# The largest page a list gives.
MAX_LIMIT = 200

_ATTRIBUTE_FIELD = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


def parse(request, schema: type[Schema]) -> tuple[Any, MultiValueDict]:
    """(payload, uploaded files by field name) from a JSON body or a multipart / urlencoded form."""
    content_type = request.content_type or ""
    uploads = MultiValueDict()
    if content_type.startswith("multipart/") or content_type == "application/x-www-form-urlencoded":
        data: dict[str, Any] = {}
        details: dict[str, Any] = {}
        for key in request.POST:
            values = request.POST.getlist(key)
            match = _ATTRIBUTE_FIELD.match(key)
            if match:
                details[match[1]] = values if (match[2] or len(values) > 1) else values[0]
                continue
            values = [v for v in values if v != ""]
            if values:
                data[key] = values if len(values) > 1 or key in LIST_FIELDS else values[0]
        if isinstance(data.get("attributes"), str):
            try:
                data["attributes"] = json.loads(data["attributes"])
            except ValueError:
                raise DomainError("invalid_input", _("The details (attributes) are not valid JSON."), field="attributes", status=422)
        if details:
            data["attributes"] = {**(data.get("attributes") or {}), **details}
        uploads = request.FILES
    else:
        body = request.body
        data = {}
        if body.strip():
            try:
                data = json.loads(body)
            except ValueError:
                raise DomainError("invalid_json", _("The request body is not valid JSON."), status=422)
            if not isinstance(data, dict):
                raise DomainError("invalid_json", _("The request body is not valid JSON."), status=422)
    try:
        payload = schema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError([{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors()])
    return payload, uploads


LIST_FIELDS = {"ids"}


def body(schema: type[Schema], files: bool = False, after_files: bool = False) -> dict:
    """OpenAPI request body: the schema as JSON, and as a multipart form with files."""
    json_schema = schema.model_json_schema()
    form = json.loads(json.dumps(json_schema))
    form.setdefault("properties", {})
    if files:
        form["properties"]["files"] = {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "Photos, a short video or PDFs (at most 9)."}
    if after_files:
        form["properties"]["after_files"] = {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "After-photos."}
    content = {"application/json": {"schema": json_schema}}
    if files:
        content["multipart/form-data"] = {"schema": form}
    return {"requestBody": {"content": content, "required": bool(json_schema.get("required"))}}
