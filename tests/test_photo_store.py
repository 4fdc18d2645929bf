"""Photo storage: content-addressed names, atomic durable writes, idempotent re-stores."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.services.photos import store as photo_store
from app.services.photos.pipeline import ProcessedPhoto
from app.services.photos.store import display_path, is_stored, store_photo, thumb_path, write_atomic


def a_photo(content: bytes = b"upload") -> ProcessedPhoto:
    return ProcessedPhoto(
        sha256=hashlib.sha256(content).hexdigest(),
        display_jpeg=b"display of " + content,
        thumb_jpeg=b"thumb of " + content,
        width=2000,
        height=1500,
        thumb_width=320,
        thumb_height=240,
        source_format="JPEG",
    )


def every_file(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_photos_are_filed_under_the_first_four_hex_digits_of_their_hash(tmp_path: Path) -> None:
    photo = a_photo()
    sha = photo.sha256

    stored = store_photo(tmp_path, photo)

    assert stored.display == tmp_path / sha[:2] / sha[2:4] / f"{sha}-display.jpg"
    assert stored.thumb == tmp_path / sha[:2] / sha[2:4] / f"{sha}-thumb.jpg"
    assert (display_path(tmp_path, sha), thumb_path(tmp_path, sha)) == (
        stored.display,
        stored.thumb,
    )
    assert stored.display.read_bytes() == photo.display_jpeg
    assert stored.thumb.read_bytes() == photo.thumb_jpeg
    assert is_stored(tmp_path, sha)


def test_storing_leaves_no_temporary_files_behind(tmp_path: Path) -> None:
    photo = a_photo()
    store_photo(tmp_path, photo)

    sha = photo.sha256
    prefix = f"{sha[:2]}/{sha[2:4]}"
    assert every_file(tmp_path) == [f"{prefix}/{sha}-display.jpg", f"{prefix}/{sha}-thumb.jpg"]


def test_storing_the_same_photo_twice_changes_nothing(tmp_path: Path) -> None:
    photo = a_photo()
    first = store_photo(tmp_path, photo)
    before = {p: p.stat() for p in (first.display, first.thumb)}

    second = store_photo(tmp_path, photo)

    assert second == first
    for path, status in before.items():
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == (status.st_ino, status.st_mtime_ns)
    assert len(every_file(tmp_path)) == 2


def test_different_content_replaces_the_file_by_renaming_not_by_rewriting(tmp_path: Path) -> None:
    path = tmp_path / "ab" / "cd" / "file.jpg"
    assert write_atomic(path, b"old") is True
    old_inode = path.stat().st_ino

    assert write_atomic(path, b"new") is True
    assert write_atomic(path, b"new") is False

    assert path.read_bytes() == b"new"
    assert path.stat().st_ino != old_inode  # a reader holding the old file keeps it whole
    assert every_file(tmp_path) == ["ab/cd/file.jpg"]


def test_each_write_is_synced_then_renamed_within_its_directory_which_is_synced_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        kind = "directory" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file"
        events.append(("fsync", kind))
        real_fsync(descriptor)

    def replace(source: str, target: Path) -> None:
        assert Path(source).parent == Path(target).parent
        assert Path(source).name.startswith(".")
        assert Path(source).read_bytes() == b"data"
        events.append(("replace", Path(target).name))
        real_replace(source, target)

    monkeypatch.setattr(photo_store.os, "fsync", fsync)
    monkeypatch.setattr(photo_store.os, "replace", replace)
    (tmp_path / "ab" / "cd").mkdir(parents=True)

    write_atomic(tmp_path / "ab" / "cd" / "file.jpg", b"data")

    assert events == [("fsync", "file"), ("replace", "file.jpg"), ("fsync", "directory")]


def test_new_directories_are_made_durable_as_they_are_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    real_fsync_directory = photo_store._fsync_directory

    def fsync_directory(directory: Path) -> None:
        synced.append(directory)
        real_fsync_directory(directory)

    monkeypatch.setattr(photo_store, "_fsync_directory", fsync_directory)
    write_atomic(tmp_path / "ab" / "cd" / "file.jpg", b"data")

    assert synced == [tmp_path, tmp_path / "ab", tmp_path / "ab" / "cd"]


def test_a_failed_write_leaves_neither_a_partial_file_nor_a_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(photo_store.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        store_photo(tmp_path, a_photo())

    assert every_file(tmp_path) == []
    assert not is_stored(tmp_path, a_photo().sha256)


def test_a_failed_replacement_keeps_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "file.jpg"
    write_atomic(path, b"old and complete")

    def crash(source: str, target: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(photo_store.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, b"new")

    assert path.read_bytes() == b"old and complete"
    assert every_file(tmp_path) == ["file.jpg"]


def test_stored_files_are_private_to_the_app(tmp_path: Path) -> None:
    stored = store_photo(tmp_path, a_photo())
    assert stat.S_IMODE(stored.display.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "name", ["../../../etc/passwd", "AB" * 32, "ab" * 31, "g" * 64, "ab" * 32 + "\n", ""]
)
def test_a_name_that_is_not_a_sha256_never_becomes_a_path(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        display_path(tmp_path, name)


def test_a_killed_writers_temporary_files_are_swept_and_nothing_else(tmp_path: Path) -> None:
    stored = store_photo(tmp_path, a_photo())
    folder = stored.display.parent
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname().replace(".", "_")
    killed = folder / f".{stored.display.name}.{host}~{dead.pid}.abc123.tmp"
    writing = folder / f".{stored.thumb.name}.{host}~{os.getpid()}.def456.tmp"
    old = folder / f".{stored.thumb.name}.ghi789.tmp"
    for path in (killed, writing, old):
        path.write_bytes(b"half a jpeg")
    os.utime(old, (time.time() - 7200, time.time() - 7200))

    assert photo_store.sweep_temporary(tmp_path) == 2
    assert not killed.exists()
    assert not old.exists()
    assert writing.exists()  # a live writer's file is left to it
    assert stored.display.is_file()
    assert stored.thumb.is_file()
