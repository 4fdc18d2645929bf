"""Page or fragment: one decision for every handler."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from app.errors import InvalidInput
from app.web.form import Refusal


def is_fragment(request: Request[Any, Any, Any]) -> bool:
    """An HTMX request that swaps a region (not a boosted navigation or a history restore)."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.boosted and not htmx.history_restore_request


def render(
    request: Request[Any, Any, Any] | HTMXRequest,
    page: str,
    context: dict[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    headers: dict[str, str] | None = None,
) -> Template:
    name = fragment if fragment and is_fragment(request) else page
    return Template(
        template_name=name,
        context=context or {},
        status_code=status_code,
        cookies=cookies or [],
        headers={"Vary": "HX-Request", **(headers or {})},
    )


def refused(
    request: Request[Any, Any, Any],
    page: str,
    context: dict[str, Any],
    exc: InvalidInput,
    form: dict[str, Any],
) -> Template:
    """A plain form post refused: the page again with what was typed and the field
    marked, instead of an error page that loses it. (The 422 rolls the transaction back.)"""
    refusal = Refusal(request.url.path, form, exc.field, exc.message)
    return render(request, page, {**context, "refusal": refusal}, status_code=exc.status_code)


def toast_headers(
    message: str, level: str = "error", field: str | None = None, reload: bool = False
) -> dict[str, str]:
    """Tell htmx to show a toast (and the message under `field`, if the page has
    its slot) and swap nothing: the field stays as the user left it."""
    detail = {"message": message, "level": level, "field": field, "reload": reload}
    return {
        "HX-Trigger": json.dumps({"wa:toast": detail}),
        "HX-Reswap": "none",
    }


def go(request: Request[Any, Any, Any], url: str) -> Redirect | ClientRedirect:
    """After a change: htmx follows HX-Redirect, a plain form post a 303."""
    return ClientRedirect(url) if is_fragment(request) else Redirect(url, status_code=303)
