"""What the app cannot read is refused before any handler or guard runs: an id in a
path that no table can hold (a page that does not exist), a body that is not a form.

Every id column is an INTEGER (32-bit on PostgreSQL; SQLite raises OverflowError
beyond 64 bits), so a larger number would reach the database only to crash the
request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.exceptions import NotFoundException
from litestar.middleware import ASGIMiddleware

from app.errors import DomainError
from app.i18n import _

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

MAX_ID = 2**31 - 1


def is_id(value: int) -> bool:
    return 0 < value <= MAX_ID


class PathIdMiddleware(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        for value in scope.get("path_params", {}).values():
            if isinstance(value, int) and not is_id(value):
                raise NotFoundException()
        await next_app(scope, receive, send)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


class UnreadableBody(DomainError):
    status_code = 415


def _content_type(header: bytes) -> tuple[str, dict[str, str]]:
    media, *rest = header.decode("latin-1").split(";")
    params = dict(p.strip().partition("=")[::2] for p in rest)
    return media.strip().lower(), {k.lower(): v.strip('"') for k, v in params.items()}


def _unreadable() -> UnreadableBody:
    return UnreadableBody(
        _("This was sent in a format the app does not read. Reload the page and try again.")
    )


class FormBodyMiddleware(ASGIMiddleware):
    """Screens read forms only: a body of any other kind (JSON, XML, text, UTF-16) would
    be read as an empty form, and an autosave of an empty form clears the step's fields.
    A browser sends a form as UTF-8 with every other byte percent-encoded, so raw bytes
    above ASCII are someone else's encoding, which the form parser would read as Latin-1.
    The dealer system's API writes (`json_body` in their opt) read JSON, typed and checked
    by their own schema."""

    exclude_opt_key = "json_body"

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        header = next((v for k, v in scope["headers"] if k == b"content-type"), None)
        if scope.get("method") not in _WRITES or header is None:
            await next_app(scope, receive, send)
            return
        media, params = _content_type(header)
        charset = params.get("charset", "utf-8").lower()
        if media not in FORM_TYPES or charset != "utf-8":
            raise _unreadable()
        if media == FORM_TYPES[1]:
            if not params.get("boundary"):
                raise _unreadable()
            await next_app(scope, receive, send)
            return

        async def ascii_only() -> ReceiveMessage:
            message = await receive()
            if message["type"] == "http.request" and not message.get("body", b"").isascii():
                raise _unreadable()
            return message

        await next_app(scope, ascii_only, send)
