"""The server's disk refuses a photo (full, or the photo folder read-only): the tablet gets a
clear 507 / 503 in the advisor's language and keeps the photo; nothing half-written and no row
remains; /healthz says what is wrong; once the disk is back the same photo is stored once."""

from __future__ import annotations

import errno

import pytest

from app.services.photos import store as photo_store
from tests.test_photo_upload import PHOTOS, _files, _photo_rows, fx_upload  # noqa: F401

PHOTO = "orientation_6.jpg"


def _disk_full(_descriptor: int) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _read_only(_directory: object) -> None:
    raise OSError(errno.EROFS, "Read-only file system")


@pytest.mark.parametrize(
    ("target", "fault", "status", "says"),
    [
        ("fsync", _disk_full, 507, "服务器磁盘已满"),
        ("_make_directories", _read_only, 503, "服务器暂时无法保存照片。"),
    ],
)
async def test_a_photo_the_disk_refuses_is_not_stored_and_the_tablet_is_told(
    upload, db, settings, client, monkeypatch, target, fault, status, says
) -> None:
    content = (PHOTOS / PHOTO).read_bytes()
    owner = photo_store.os if target == "fsync" else photo_store
    with monkeypatch.context() as broken:
        broken.setattr(owner, target, fault)
        refused = await upload(content, client_id="tablet-photo-disk-01")
        health = await client.get("/healthz")
    assert refused.status_code == status, refused.text
    assert says in refused.json()["error"]
    assert refused.status_code >= 500  # the tablet keeps it and sends it again
    assert await _photo_rows(db) == 0
    assert _files(settings.photos) == []
    if target == "fsync":
        assert health.status_code == 503
        assert health.json()["photos"] == {"ok": False, "detail": "No space left on device"}

    again = await upload(content, client_id="tablet-photo-disk-01")
    assert again.status_code == 201, again.text
    assert await _photo_rows(db) == 1
    assert len(_files(settings.photos)) == 2
