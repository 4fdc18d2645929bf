"""Reading posted forms: repeated keys become lists, and the newest version wins.

Every text value is cleaned here (app.text.clean_fields): normal form C, no
control, bidi or zero-width characters, whatever the form. Machine fields
(signature strokes and image, versions, ids) never hold such characters, so
the one rule serves them too; passwords and the CSRF token are left as typed.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from app.errors import InvalidInput
from app.i18n import _
from app.text import clean_fields
from app.web.limits import is_id


async def form_data(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key in data:
            data[key] = [*(data[key] if isinstance(data[key], list) else [data[key]]), value]
        else:
            data[key] = value
    return clean_fields(data)


def form_version(form: dict[str, Any]) -> int | None:
    # A form may carry its own copy besides the page's #version: the newest wins.
    raw = form.get("version", "")
    try:
        return max(int(v) for v in (raw if isinstance(raw, list) else [raw]))
    except ValueError:
        return None


def form_int(form: dict[str, Any], name: str) -> int:
    """An id sent with a form (a line, a job): one that no table can hold is refused
    here, before the database would crash on it."""
    try:
        value = int(str(form.get(name, "")).strip())
    except ValueError:
        value = 0
    if not is_id(value):
        raise InvalidInput(_("Some of the information sent was not valid."), field=name)
    return value
