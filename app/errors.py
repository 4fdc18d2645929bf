"""Domain errors that services raise; `app.web.errors` maps them to HTTP once."""

from __future__ import annotations


class DomainError(Exception):
    """An expected refusal, with a message already in the user's language."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """A stale version or a state that no longer allows the change."""

    status_code = 409


class TooManyAttempts(DomainError):
    status_code = 429
