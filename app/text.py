"""Text as people type it, checked once where it enters the app.

Names, plates, phones and notes are stored in Unicode normal form C, so "é"
typed as e + combining accent finds the same customer as "é". Characters that
make stored text lie about itself are refused with the field's message rather
than silently dropped: control characters and NUL (PostgreSQL cannot even
store NUL), bidirectional overrides (U+202E turns "ABC123" into "321CBA" on
screen) and zero-width characters (two plates that look the same but differ).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from app.errors import DomainError, InvalidInput
from app.i18n import _

MAX_SEARCH = 100
_HIDDEN = (
    r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 but \t \n \r, DEL, C1
    r"\u200b-\u200f\u2060\ufeff"  # zero-width, LRM/RLM, word joiner, BOM
    r"\u061c\u202a-\u202e\u2066-\u2069"  # Arabic letter mark, embeddings, overrides, isolates
    r"\ufffd"  # the replacement character: bytes sent that were not UTF-8
)
_REFUSED_MULTILINE = re.compile(f"[{_HIDDEN}]")
_REFUSED_ONE_LINE = re.compile(rf"[{_HIDDEN}\t\n\r]")
# Secrets are compared as typed; never changed or refused here.
_AS_TYPED = ("password", "_csrf_token")


def clean_text(value: str, field: str, *, multiline: bool = False) -> str:
    """`value` in normal form C, or InvalidInput naming `field`."""
    text = unicodedata.normalize("NFC", value)
    refused = _REFUSED_MULTILINE if multiline else _REFUSED_ONE_LINE
    if refused.search(text):
        raise InvalidInput(
            _("This field contains hidden or control characters. Please type it again."),
            field=field,
        )
    return text


def clean_fields(data: dict[str, Any], *, multiline: bool = True) -> dict[str, Any]:
    """Every text value of a posted form cleaned (lists item by item), passwords and
    the CSRF token aside. `multiline` allows line breaks and tabs in every field: a
    form reader cannot tell a textarea from an input, and a browser never puts a
    line break in an input."""

    def clean(key: str, value: Any) -> Any:
        if isinstance(value, str) and not any(word in key for word in _AS_TYPED):
            return clean_text(value, key, multiline=multiline)
        return value

    return {
        key: [clean(key, v) for v in value] if isinstance(value, list) else clean(key, value)
        for key, value in data.items()
    }


def search_text(query: str, field: str = "q") -> str:
    """A search in the form names are stored in; a search longer than anything on
    file is refused, not run (SQLite refuses LIKE patterns over 50,000 bytes: a 500)."""
    if len(query) > MAX_SEARCH:
        raise DomainError(
            _("A search is at most %(n)s characters long.", n=MAX_SEARCH), field=field
        )
    # A NUL reaches PostgreSQL only to crash the query; a bidi override finds nothing.
    if _REFUSED_ONE_LINE.search(query):
        raise DomainError(
            _("This field contains hidden or control characters. Please type it again."),
            field=field,
        )
    return unicodedata.normalize("NFC", query)


# Spreadsheets run a cell that starts with one of these as a formula
# (=HYPERLINK(...) in a User-Agent, a name typed as "+86...": both would).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A CSV cell Excel shows as typed: text that would start a formula gets a
    leading apostrophe (which Excel does not display). Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def from_spreadsheet_cell(text: str) -> str:
    """The text of a cell `spreadsheet_cell` wrote: a file exported and imported
    again keeps its values."""
    if text.startswith("'") and text[1:2] and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text
