"""Tokens and the signed-in user.

POST /api/auth/token trades a username and password for a bearer token (only its hash is
stored); DELETE /api/auth/token revokes the token presented; GET /api/auth/me says who you are
and where you work.
"""

import datetime as dt

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status

from linli.errors import DomainError
from linli.schemas import errors

from . import access, services
from .models import Role

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    expires_at: dt.datetime


class RoleOut(Schema):
    role: str
    role_label: str
    region_id: int
    region_name: str
    region_code: str
    region_level: int
    # The tree path (prefix of every row in this scope) and the names from the city down.
    region_path: str
    region_names: list[str]
    department: str = ""


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[RoleOut]
    permissions: list[str]


class Unauthorized(DomainError):
    status = 401


@router.post("/token", auth=None, response={201: TokenOut, **errors()}, summary="Get a bearer token")
def create_token(request, payload: TokenIn):
    user = authenticate(request, username=payload.username.strip(), password=payload.password)
    if user is None:
        raise Unauthorized("invalid_credentials", _("Wrong username or password."))
    key, row = services.issue_token(user)
    return Status(201, {"token": key, "expires_at": row.expires_at})


@router.delete("/token", response={204: None, **errors()}, summary="Revoke the token you are using")
def delete_token(request):
    header = request.headers.get("Authorization", "")
    scheme, _sep, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise DomainError("no_token", _("Send the token to revoke in the Authorization header."))
    services.revoke_token(key.strip())
    return Status(204, None)


PERMISSIONS = (
    "registry.view",
    "registry.edit",
    "registry.import",
    "registry.export",
    "registry.reveal",
    "regions.manage",
    "accounts.view_access_log",
)


@router.get("/me", response={200: MeOut, **errors()}, summary="Who you are and where you work")
def me(request):
    user = request.auth
    rows = access.role_assignments(user)
    roles = []
    for ra in rows:
        p = ra.region.path
        roles.append(
            {
                "role": ra.role,
                "role_label": str(Role(ra.role).label),
                "region_id": ra.region_id,
                "region_name": ra.region.name,
                "region_code": ra.region.code,
                "region_level": ra.region.level,
                "region_path": p,
                "region_names": [r.name for r in ra.region.ancestors_and_self()],
                "department": ra.department,
            }
        )
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name or user.username,
        "roles": roles,
        "permissions": [p for p in PERMISSIONS if user.has_perm(p)],
    }
