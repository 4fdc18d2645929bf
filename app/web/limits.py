"""Ids in paths: an id no table can hold is a page that does not exist.

Every id column is an INTEGER (32-bit on PostgreSQL; SQLite raises OverflowError
beyond 64 bits), so a larger number would reach the database only to crash the
request. It is answered before any handler or guard runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.exceptions import NotFoundException
from litestar.middleware import ASGIMiddleware

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

MAX_ID = 2**31 - 1


def is_id(value: int) -> bool:
    return 0 < value <= MAX_ID


class PathIdMiddleware(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        for value in scope.get("path_params", {}).values():
            if isinstance(value, int) and not is_id(value):
                raise NotFoundException()
        await next_app(scope, receive, send)
