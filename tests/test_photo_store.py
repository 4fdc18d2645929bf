"""Photo storage: content-addressed names, idempotent re-stores, on the folder and a bucket;
the folder's atomic durable writes, private files and sweep of a killed writer's leftovers."""

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

from app.services.photos.pipeline import ProcessedPhoto
from app.services.photos.store import (
    display_key,
    display_path,
    is_stored,
    sha256_of,
    store_photo,
    thumb_key,
    thumb_path,
)
from app.services.storage import local as local_store
from app.services.storage.configured import open_store
from app.services.storage.files import FileStore
from app.services.storage.local import LocalStore, write_atomic
from app.settings import Settings
from tests.conftest import STORES, TEST_SECRET, on_s3


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


@pytest.fixture(name="store", params=STORES)
def fx_store(request: pytest.FixtureRequest, tmp_path: Path) -> FileStore:
    settings = Settings(env="test", data_dir=tmp_path, secret_key=TEST_SECRET)
    if request.param == "s3":
        settings = on_s3(settings, request.getfixturevalue("s3_endpoint"))
    return open_store(settings)


def test_photos_are_filed_under_the_first_four_hex_digits_of_their_hash(store) -> None:
    photo = a_photo()
    sha = photo.sha256

    stored = store_photo(store, photo)

    assert stored.display == f"{sha[:2]}/{sha[2:4]}/{sha}-display.jpg"
    assert stored.thumb == f"{sha[:2]}/{sha[2:4]}/{sha}-thumb.jpg"
    assert (display_key(sha), thumb_key(sha)) == (stored.display, stored.thumb)
    assert store.get(stored.display) == photo.display_jpeg
    assert store.get(stored.thumb) == photo.thumb_jpeg
    assert is_stored(store, sha)
    assert sorted(f.key for f in store.files()) == [stored.display, stored.thumb]
    assert {sha256_of(f.key) for f in store.files()} == {sha}


def test_the_folder_keeps_a_photo_where_its_key_says(tmp_path: Path) -> None:
    photo = a_photo()
    store_photo(LocalStore(tmp_path), photo)
    sha = photo.sha256
    assert display_path(tmp_path, sha).read_bytes() == photo.display_jpeg
    assert thumb_path(tmp_path, sha).read_bytes() == photo.thumb_jpeg


def test_storing_leaves_no_temporary_files_behind(tmp_path: Path) -> None:
    photo = a_photo()
    store_photo(LocalStore(tmp_path), photo)

    sha = photo.sha256
    prefix = f"{sha[:2]}/{sha[2:4]}"
    assert every_file(tmp_path) == [f"{prefix}/{sha}-display.jpg", f"{prefix}/{sha}-thumb.jpg"]


def test_storing_the_same_photo_twice_writes_it_once(store) -> None:
    photo = a_photo()
    first = store_photo(store, photo)
    before = {f.key: f for f in store.files()}

    assert store.put(first.display, photo.display_jpeg) is False
    assert store.put(first.thumb, photo.thumb_jpeg) is False
    assert store_photo(store, photo) == first

    assert {f.key: f for f in store.files()} == before  # same sizes, same times


def test_a_photo_copied_into_the_bucket_from_the_folder_is_not_written_again(
    s3_endpoint: str, tmp_path: Path
) -> None:
    settings = on_s3(Settings(env="test", data_dir=tmp_path, secret_key=TEST_SECRET), s3_endpoint)
    bucket = open_store(settings)
    photo = a_photo()
    # As `aws s3 sync var/photos s3://bucket/photos` leaves it: no metadata of ours.
    bucket.client.put_object(  # type: ignore[attr-defined]
        Bucket=settings.s3_bucket, Key=f"photos/{thumb_key(photo.sha256)}", Body=photo.thumb_jpeg
    )
    assert bucket.put(thumb_key(photo.sha256), photo.thumb_jpeg) is False
    assert bucket.put(thumb_key(photo.sha256), b"other bytes") is True


def test_different_content_under_a_key_replaces_it_whole(store) -> None:
    assert store.put("ab/cd/file.jpg", b"old") is True
    assert store.put("ab/cd/file.jpg", b"new") is True
    assert store.put("ab/cd/file.jpg", b"new") is False
    assert store.get("ab/cd/file.jpg") == b"new"
    store.delete("ab/cd/file.jpg")
    store.delete("ab/cd/file.jpg")  # already gone: not an error
    assert not store.exists("ab/cd/file.jpg")
    with pytest.raises(FileNotFoundError):
        store.get("ab/cd/file.jpg")


def test_the_folder_replaces_a_file_by_renaming_not_by_rewriting(tmp_path: Path) -> None:
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

    monkeypatch.setattr(local_store.os, "fsync", fsync)
    monkeypatch.setattr(local_store.os, "replace", replace)
    (tmp_path / "ab" / "cd").mkdir(parents=True)

    write_atomic(tmp_path / "ab" / "cd" / "file.jpg", b"data")

    assert events == [("fsync", "file"), ("replace", "file.jpg"), ("fsync", "directory")]


def test_new_directories_are_made_durable_as_they_are_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    real_fsync_directory = local_store._fsync_directory

    def fsync_directory(directory: Path) -> None:
        synced.append(directory)
        real_fsync_directory(directory)

    monkeypatch.setattr(local_store, "_fsync_directory", fsync_directory)
    write_atomic(tmp_path / "ab" / "cd" / "file.jpg", b"data")

    assert synced == [tmp_path, tmp_path / "ab", tmp_path / "ab" / "cd"]


def test_a_failed_write_leaves_neither_a_partial_file_nor_a_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local_store.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        store_photo(LocalStore(tmp_path), a_photo())

    assert every_file(tmp_path) == []
    assert not is_stored(LocalStore(tmp_path), a_photo().sha256)


def test_a_failed_replacement_keeps_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "file.jpg"
    write_atomic(path, b"old and complete")

    def crash(source: str, target: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(local_store.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, b"new")

    assert path.read_bytes() == b"old and complete"
    assert every_file(tmp_path) == ["file.jpg"]


def test_stored_files_are_private_to_the_app(tmp_path: Path) -> None:
    stored = store_photo(LocalStore(tmp_path), a_photo())
    assert stat.S_IMODE((tmp_path / stored.display).stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "name", ["../../../etc/passwd", "AB" * 32, "ab" * 31, "g" * 64, "ab" * 32 + "\n", ""]
)
def test_a_name_that_is_not_a_sha256_never_becomes_a_path(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        display_path(tmp_path, name)
    with pytest.raises(ValueError, match="SHA-256"):
        thumb_key(name)


@pytest.mark.parametrize("key", ["../secret_key", "/etc/passwd", "ab/../../x", ""])
def test_the_folder_refuses_a_key_that_would_climb_out_of_it(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="not a store key"):
        LocalStore(tmp_path / "photos").put(key, b"x")


def test_a_killed_writers_temporary_files_are_swept_and_nothing_else(tmp_path: Path) -> None:
    stored = store_photo(LocalStore(tmp_path), a_photo())
    display, thumb = tmp_path / stored.display, tmp_path / stored.thumb
    folder = display.parent
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname().replace(".", "_")
    killed = folder / f".{display.name}.{host}~{dead.pid}.abc123.tmp"
    writing = folder / f".{thumb.name}.{host}~{os.getpid()}.def456.tmp"
    old = folder / f".{thumb.name}.ghi789.tmp"
    for path in (killed, writing, old):
        path.write_bytes(b"half a jpeg")
    os.utime(old, (time.time() - 7200, time.time() - 7200))

    assert [f.key for f in LocalStore(tmp_path).files()] == [stored.display, stored.thumb]
    assert local_store.sweep_temporary(tmp_path) == 2
    assert not killed.exists()
    assert not old.exists()
    assert writing.exists()  # a live writer's file is left to it
    assert display.is_file()
    assert thumb.is_file()
