"""The local folder: every file written so a crash never leaves half of it.

Files are created mode 0600, readable by the app's user only: the photos show customers'
cars and plates, and the app serves them behind its own access checks.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from app.services.storage.files import StoredFile, StoreError


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return str(self.root)

    def path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        # Keys are made by the app, but a key must never climb out of the folder.
        if not parts or key.startswith("/") or ".." in parts or "\\" in key:
            raise ValueError(f"not a store key: {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> bool:
        return write_atomic(self.path(key), data)

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def files(self) -> Iterator[StoredFile]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.name.startswith(".") or not path.is_file():
                continue  # a write in progress, a health probe
            try:
                status = path.stat()
            except FileNotFoundError:
                continue  # deleted while we walked
            modified = datetime.fromtimestamp(status.st_mtime, UTC)
            yield StoredFile(path.relative_to(self.root).as_posix(), status.st_size, modified)

    def check(self) -> tuple[bool, str]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".healthz-") as handle:
                handle.write(b"ok")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            return False, exc.strerror or type(exc).__name__
        return True, "writable"

    def verify(self) -> None:
        ok, why = self.check()
        if not ok:
            raise StoreError(f"{self.root}: {why}")


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
    host's, or an older naming). Returns how many went. Never touches a finished file.
    Only the folder has these: an object store never shows half an object."""
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
