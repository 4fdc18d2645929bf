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


class StorageUnavailable(DomainError):
    """The disk refused a file (full, read-only, gone): nothing was stored; the tablet keeps it."""

    def __init__(self, message: str, *, full: bool) -> None:
        super().__init__(message)
        # 507 Insufficient Storage when the disk is full, else the store is out of service.
        self.status_code = 507 if full else 503
