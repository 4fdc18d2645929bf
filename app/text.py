"""Text as people type it, checked once where it enters the app.

Names, plates, phones and notes are stored in Unicode normal form C, so "é"
typed as e + combining accent finds the same customer as "é". Characters that
make stored text lie about itself are refused with the field's message rather
than silently dropped: control characters and NUL (PostgreSQL cannot even
store NUL), bidirectional overrides (U+202E turns "ABC123" into "321CBA" on
screen) and zero-width characters (two plates that look the same but differ).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from app.errors import DomainError, InvalidInput
from app.i18n import _

MAX_SEARCH = 100
# Line breaks and tabs are what a textarea sends; everything else below U+0020 is not text.
_WHITESPACE = frozenset("\n\r\t")
_INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width space, non-joiner, joiner, word joiner, BOM
    "\u200e\u200f\u061c"  # left-to-right, right-to-left and Arabic letter marks
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # bidi isolates
)


def _refused(ch: str, multiline: bool) -> bool:
    if ch in _WHITESPACE:
        return not multiline
    return ch in _INVISIBLE or unicodedata.category(ch) == "Cc"


def clean_text(value: str, field: str, *, multiline: bool = False) -> str:
    """`value` in normal form C, or InvalidInput naming `field`."""
    text = unicodedata.normalize("NFC", value)
    if any(_refused(ch, multiline) for ch in text):
        raise InvalidInput(
            _("This field contains hidden or control characters. Please type it again."),
            field=field,
        )
    return text


def clean_fields(
    data: dict[str, Any], *, multiline: bool = True, skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Every text value of a posted form, cleaned (lists item by item)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in skip:
            out[key] = value
        elif isinstance(value, str):
            out[key] = clean_text(value, key, multiline=multiline)
        elif isinstance(value, list):
            out[key] = [
                clean_text(v, key, multiline=multiline) if isinstance(v, str) else v for v in value
            ]
        else:
            out[key] = value
    return out


def search_text(query: str, field: str = "q") -> str:
    """A search as typed; a search longer than anything on file is refused, not run
    (SQLite refuses LIKE patterns over 50,000 bytes: that was a 500)."""
    if len(query) > MAX_SEARCH:
        raise DomainError(
            _("A search is at most %(n)s characters long.", n=MAX_SEARCH), field=field
        )
    return query


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
