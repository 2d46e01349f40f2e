"""API pieces every router shares: the error answer, its declarations, and small schemas.

Routers import these; the ninja root (api/) turns DomainError into the same shape. Nothing here
carries a ciphertext or a blind index: personal numbers leave the server masked, except through
a reveal operation (which is logged).
"""

import datetime as dt
from typing import Annotated

from ninja import Field, Schema

# A row id as the API accepts it: a positive 64-bit integer (a larger number is refused with 422
# instead of reaching the database, where SQLite overflows and PostgreSQL finds nothing).
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ErrorOut(Schema):
    code: str
    message: str
    message_en: str
    field: str | None = None


STANDARD_ERRORS = (400, 401, 403, 404, 409, 422)


def errors(*extra: int) -> dict:
    """Response declarations for the errors every authenticated route can return."""
    return {code: ErrorOut for code in sorted(set(STANDARD_ERRORS) | set(extra))}


class Ok(Schema):
    ok: bool = True


class DatedNoteIn(Schema):
    """A dated event: `date` as 2024-05-01 (also 2024/5/1, 20240501); today when left out."""

    date: str | None = None
    note: str = ""


class PageQuery(Schema):
    """A keyset page: pass the `next_after` of one page as `after` for the next."""

    after: Id | None = Field(None, description="The `next_after` of the previous page.")
    limit: int = Field(50, ge=1, le=200)


def iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
