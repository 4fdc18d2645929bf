"""Security headers on every response: pages, fragments, error pages, static files.

A `before_send` hook rather than a route middleware, because route middleware
never runs for a URL no route matches (the 404 page) and the headers belong
there too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.datastructures import MutableScopeHeaders

if TYPE_CHECKING:
    from litestar.types import Message, Scope

API_DOCS_PATH = "/api/docs"

_REST = (
    "img-src 'self' data: blob:",  # photo previews are blob: URLs, icons in CSS data: URLs
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def _policy(style_src: str) -> str:
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        f"style-src {style_src}",
        *_REST,
    ))  # fmt: skip


CONTENT_SECURITY_POLICY = _policy("'self'")
# Swagger UI (React) sets style attributes as it renders; scripts stay 'self'.
# The page shows only the app's own schema, never user input.
API_DOCS_POLICY = _policy("'self' 'unsafe-inline'")

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",  # for browsers that predate frame-ancestors
    "referrer-policy": "same-origin",
}


def policy_for(path: str) -> str:
    if path == API_DOCS_PATH or path.startswith(API_DOCS_PATH + "/"):
        return API_DOCS_POLICY
    return CONTENT_SECURITY_POLICY


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["content-security-policy"] = policy_for(scope.get("path", ""))
    for name, value in HEADERS.items():
        headers[name] = value
