"""The store refuses a photo (the disk full, the photo folder read-only, the bucket out of
reach): the tablet gets a clear 507 / 503 in the advisor's language and keeps the photo;
nothing half-written and no row remains; /healthz says what is wrong; once the store is back
the same photo is stored once."""

from __future__ import annotations

import errno

import boto3
import pytest
from botocore.config import Config

from app.services.storage import local as local_store
from app.services.storage.configured import open_store
from app.settings import Settings
from tests.test_photo_upload import (  # noqa: F401
    PHOTOS,
    _files,
    _photo_rows,
    _stored,
    fx_settings,
    fx_upload,
)

PHOTO = "orientation_6.jpg"


def _disk_full(_descriptor: int) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _read_only(_directory: object) -> None:
    raise OSError(errno.EROFS, "Read-only file system")


def _unreachable(settings: Settings):  # type: ignore[no-untyped-def]
    """A client for the same bucket at an address where nothing answers."""
    return boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        config=Config(connect_timeout=1, retries={"max_attempts": 2, "mode": "standard"}),
    )


def _break(broken: pytest.MonkeyPatch, settings: Settings, fault: str) -> None:
    if fault == "disk full":
        broken.setattr(local_store.os, "fsync", _disk_full)
    elif fault == "read-only":
        broken.setattr(local_store, "_make_directories", _read_only)
    else:
        broken.setattr(open_store(settings), "client", _unreachable(settings))
        broken.setattr(open_store(settings), "probe", _unreachable(settings))


@pytest.mark.parametrize(
    ("settings", "fault", "status", "says"),
    [
        ("local", "disk full", 507, "服务器磁盘已满"),
        ("local", "read-only", 503, "服务器暂时无法保存照片。"),
        ("s3", "bucket unreachable", 503, "服务器暂时无法保存照片。"),
    ],
    indirect=["settings"],
)
async def test_a_photo_the_store_refuses_is_not_stored_and_the_tablet_is_told(
    upload, db, settings, client, monkeypatch, fault, status, says
) -> None:
    content = (PHOTOS / PHOTO).read_bytes()
    with monkeypatch.context() as broken:
        _break(broken, settings, fault)
        refused = await upload(content, client_id="tablet-photo-disk-01")
        health = await client.get("/healthz")
    assert refused.status_code == status, refused.text
    assert says in refused.json()["error"]
    assert refused.status_code >= 500  # the tablet keeps it and sends it again
    assert await _photo_rows(db) == 0
    assert _stored(settings) == []
    if fault == "disk full":
        assert health.status_code == 503
        assert health.json()["photos"] == {"ok": False, "detail": "No space left on device"}
    if fault == "bucket unreachable":
        assert health.status_code == 503
        assert health.json()["photos"] == {"ok": False, "detail": "EndpointConnectionError"}

    again = await upload(content, client_id="tablet-photo-disk-01")
    assert again.status_code == 201, again.text
    assert await _photo_rows(db) == 1
    assert len(_stored(settings)) == 2


@pytest.mark.parametrize("settings", ["s3"], indirect=True)
async def test_a_stored_photo_the_bucket_cannot_give_back_is_a_503_not_a_404(
    upload, settings, client, monkeypatch
) -> None:
    body = (await upload((PHOTOS / PHOTO).read_bytes())).json()
    with monkeypatch.context() as broken:
        _break(broken, settings, "bucket unreachable")
        response = await client.get(body["thumb_url"])
    assert response.status_code == 503
    assert (await client.get(body["thumb_url"])).status_code == 200
