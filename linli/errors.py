"""Domain errors: a machine code plus a message in the user's language.

Services raise these; views turn them into form errors or messages, the API into JSON
`{"code", "message", "message_en"}`. A service that raises has changed nothing (it runs in
`transaction.atomic`).
"""

from django.utils import translation


class DomainError(Exception):
    """A refused action. `message` is a lazy gettext string (English msgid)."""

    status = 400

    def __init__(self, code: str, message, /, *, field: str | None = None, status: int | None = None, **params):
        self.code = code
        self.message = message
        self.field = field
        self.params = params
        if status is not None:
            self.status = status
        super().__init__(self.text("en"))

    def text(self, language: str | None = None) -> str:
        if language is None:
            return str(self.message) % self.params if self.params else str(self.message)
        with translation.override(language):
            return str(self.message) % self.params if self.params else str(self.message)

    def as_dict(self) -> dict:
        data = {"code": self.code, "message": self.text("zh-hans"), "message_en": self.text("en")}
        if self.field:
            data["field"] = self.field
        return data


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class TooManyAttempts(DomainError):
    """Too many wrong passwords: the sign-in is locked for a while (429, Retry-After)."""

    status = 429

    def __init__(self, minutes: int, until):
        from django.utils.translation import gettext_lazy as _

        super().__init__(
            "too_many_attempts",
            _("Too many wrong passwords. Sign-in is locked for %(minutes)s minutes: try again after %(until)s, or ask an administrator to unlock it."),
            minutes=minutes,
            until=until.strftime("%H:%M"),
        )
        self.retry_after = minutes * 60
