"""Processed photos on disk: content-addressed, written so a crash never leaves half a file.

Layout under the root: ab/cd/<sha256>-display.jpg and ab/cd/<sha256>-thumb.jpg, where
ab and cd are the first four hex digits of the upload's SHA-256 (two levels of at most 256
directories keep each directory small). The same upload always lands on the same names, so
storing it twice is harmless.

Files are created mode 0600, readable by the app's user only: the photos show customers'
cars and plates, and the app serves them behind its own access checks.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.services.photos.pipeline import ProcessedPhoto

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredPhoto:
    display: Path
    thumb: Path


def display_path(root: Path, sha256: str) -> Path:
    return _directory(root, sha256) / f"{sha256}-display.jpg"


def thumb_path(root: Path, sha256: str) -> Path:
    return _directory(root, sha256) / f"{sha256}-thumb.jpg"


def is_stored(root: Path, sha256: str) -> bool:
    return display_path(root, sha256).is_file() and thumb_path(root, sha256).is_file()


def store_photo(root: Path, photo: ProcessedPhoto) -> StoredPhoto:
    """Write both JPEGs; a file that already holds the same bytes is left untouched."""
    stored = StoredPhoto(display_path(root, photo.sha256), thumb_path(root, photo.sha256))
    # Display last, so that a display file on disk always has its thumbnail beside it.
    write_atomic(stored.thumb, photo.thumb_jpeg)
    write_atomic(stored.display, photo.display_jpeg)
    return stored


def write_atomic(path: Path, data: bytes) -> bool:
    """Make `path` hold exactly `data`, durably; False when it already did.

    Readers see the old file or the new one, never a partial write: the bytes go to a
    temporary file in the same directory (same file system, so the rename is atomic), are
    flushed to disk, then renamed over the final name; the directory is synced last so the
    rename itself survives a power cut.
    """
    if _holds(path, data):
        return False
    _make_directories(path.parent)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{_owner()}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)
    return True


def _owner() -> str:
    """Which process writes a temporary file: a killed one's are found and removed."""
    return f"{_host()}~{os.getpid()}"


def _host() -> str:
    return socket.gethostname().replace(".", "_")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def sweep_temporary(root: Path, *, older_than_s: float = 3600) -> int:
    """Remove the temporary files of writers that died mid-write (a power cut, kill -9):
    this host's files whose process is gone, and any older than `older_than_s` (another
    host's, or an older naming). Returns how many went. Never touches a finished photo."""
    if not root.is_dir():
        return 0
    host, removed, now = _host(), 0, time.time()
    for path in root.glob("*/*/.*.tmp"):
        # .<final name>.<host>~<pid>.<random>.tmp
        name, _, pid = path.name.rsplit(".", 3)[-3].rpartition("~")
        dead = name == host and pid.isdigit() and not _alive(int(pid))
        try:
            if dead or now - path.stat().st_mtime > older_than_s:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # its writer finished (renamed it) or another sweep got it
    return removed


def _directory(root: Path, sha256: str) -> Path:
    # The name becomes a path: anything but a lowercase SHA-256 could climb out of root.
    if not _SHA256.fullmatch(sha256):
        raise ValueError("not a lowercase hex SHA-256")
    return root / sha256[:2] / sha256[2:4]


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except FileNotFoundError:
        return False


def _make_directories(directory: Path) -> None:
    """Create missing directories, syncing each parent so the new entry is durable too."""
    if directory.is_dir():
        return
    _make_directories(directory.parent)
    try:
        directory.mkdir()
    except FileExistsError:
        return  # another worker storing a photo with the same prefix got here first
    _fsync_directory(directory.parent)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
