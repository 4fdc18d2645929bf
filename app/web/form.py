"""Reading posted forms: repeated keys become lists, and the newest version wins.

Every text value is cleaned here (app.text.clean_fields): normal form C, no
control, bidi or zero-width characters, whatever the form. Machine fields
(signature strokes and image, versions, ids) never hold such characters, so
the one rule serves them too; passwords and the CSRF token are left as typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar import Request
from markupsafe import Markup

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


class Refusal:
    """A plain form post the server refused (422): the form is shown again as it was
    sent, the refused field marked. (htmx forms keep what was typed in the page.)"""

    def __init__(self, action: str, values: Mapping[str, Any], field: str | None, message: str):
        self.action = action
        self.values = values
        self.field = field
        self.message = message
        self._placed = False

    def _all(self, name: str) -> list[str]:
        raw = self.values.get(name, [])
        return [str(v) for v in (raw if isinstance(raw, list) else [raw])]

    def value(self, name: str, default: Any = "") -> Any:
        found = self._all(name)
        return found[-1] if found else ""

    def checked(self, name: str, value: Any, default: bool) -> bool:
        return str(value) in self._all(name)

    @staticmethod
    def slot_id(name: str, key: Any = None) -> str:
        """`key` tells apart the same field in several forms of a page (each concern)."""
        return f"error-{name}" if key is None else f"error-{name}-{key}"

    def invalid(self, name: str, key: Any = None) -> Markup:
        if name != self.field:
            return Markup("")
        return Markup(' aria-invalid="true" aria-describedby="{}"').format(self.slot_id(name, key))

    def slot(self, name: str, key: Any = None) -> Markup:
        """The field's message slot; app.js fills the same slot for htmx saves."""
        message = ""
        if name == self.field:
            message, self._placed = self.message, True
        return Markup(
            '<p class="field-error" id="{id}" data-error-for="{name}" role="alert" '
            'data-testid="{id}">{message}</p>'
        ).format(id=self.slot_id(name, key), name=name, message=message)

    def rest(self) -> Markup:
        """The message once more at the form's end, if no field of this form showed it."""
        if self._placed:
            return Markup("")
        return Markup(
            '<p class="alert alert-error" role="alert" data-testid="form-error">{}</p>'
        ).format(self.message)


class _NotRefused(Refusal):
    """What a form that was not refused shows: the saved values, no marks."""

    def __init__(self) -> None:
        super().__init__("", {}, None, "")
        self._placed = True

    def value(self, name: str, default: Any = "") -> Any:
        return default

    def checked(self, name: str, value: Any, default: bool) -> bool:
        return bool(default)


NOT_REFUSED = _NotRefused()


@pass_context
def refused_for(context: Context, action: str) -> Refusal:
    """In a template: `{% set r = refused_for(action) %}` before the form posting there."""
    refusal = context.get("refusal")
    if isinstance(refusal, Refusal) and refusal.action == action:
        return refusal
    return NOT_REFUSED
