"""Processed photos in the configured store (app/services/storage), named by content.

Keys: ab/cd/<sha256>-display.jpg and ab/cd/<sha256>-thumb.jpg, where ab and cd are the first
four hex digits of the upload's SHA-256 (in the folder, two levels of at most 256 directories
keep each directory small). The same upload always lands on the same names, so storing it
twice is harmless.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from app.services.photos.pipeline import ProcessedPhoto
from app.services.storage.files import FileStore

_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})-(?:display|thumb)\.jpg")
SIZES = ("display", "thumb")


@dataclass(frozen=True)
class StoredPhoto:
    display: str
    thumb: str


def key(sha256: str, size: str) -> str:
    # The name becomes a path: anything but a lowercase SHA-256 could climb out of the root.
    if not _SHA256.fullmatch(sha256):
        raise ValueError("not a lowercase hex SHA-256")
    if size not in SIZES:
        raise ValueError(f"no photo size {size!r}")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}-{size}.jpg"


def display_key(sha256: str) -> str:
    return key(sha256, "display")


def thumb_key(sha256: str) -> str:
    return key(sha256, "thumb")


def sha256_of(stored_key: str) -> str | None:
    """The photo a key belongs to; None for anything else in the store."""
    found = _KEY.fullmatch(stored_key)
    return found.group(1) if found else None


def display_path(root: Path, sha256: str) -> Path:
    """Where the folder store keeps a display photo (for tools and tests on the folder)."""
    return root / display_key(sha256)


def thumb_path(root: Path, sha256: str) -> Path:
    return root / thumb_key(sha256)


def is_stored(store: FileStore, sha256: str) -> bool:
    return store.exists(display_key(sha256)) and store.exists(thumb_key(sha256))


def store_photo(store: FileStore, photo: ProcessedPhoto) -> StoredPhoto:
    """Write both JPEGs; a file that already holds the same bytes is left untouched."""
    stored = StoredPhoto(display_key(photo.sha256), thumb_key(photo.sha256))
    # Display last, so that a display file in the store always has its thumbnail beside it.
    store.put(stored.thumb, photo.thumb_jpeg)
    store.put(stored.display, photo.display_jpeg)
    return stored
