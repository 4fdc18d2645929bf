"""Cache-Control for every response, decided in one place.

Whatever does not choose its own caching (staff pages and fragments, the
customer's review, error pages, redirects, JSON) is `no-store`: neither the
browser's cache nor its Back button may show a staff screen again once the
tablet is in the customer's hands. Static files, photos, the service worker
and the manifest set their own. Static files are public and immutable, so
whatever a shared cache keeps of them must never carry anyone's cookie.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.datastructures import MutableScopeHeaders

if TYPE_CHECKING:
    from litestar.types import Message, Scope

STATIC_PREFIX = "/static/"


def no_store_unless_chosen(message: Message, scope: Scope) -> None:
    """A `before_send` hook: it sees every response, also error pages and 404s
    that no route handler produced."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    if scope.get("path", "").startswith(STATIC_PREFIX):
        del headers["set-cookie"]
    if "cache-control" not in headers:
        headers["cache-control"] = "no-store"
