from __future__ import annotations

import os
import uuid
from pathlib import Path

import boto3
import httpx
import pytest
from sqlalchemy import func, select

from app.models import Photo, Role
from app.services.photos import store as photo_store
from app.services.storage.configured import open_store
from app.settings import Settings
from tests.checkin_helpers import started_check_in
from tests.conftest import STORES, csrf_token, settings_on_each_store, sign_in

PHOTOS = Path(
    os.environ.get("WALKAROUND_TESTDATA")
    or Path(__file__).resolve().parents[2] / "shared" / "testdata" / "photos"
)


# Every test here runs on the photo folder and on an S3 bucket (moto on 127.0.0.1).
fx_settings = pytest.fixture(name="settings", params=STORES)(settings_on_each_store)


@pytest.fixture(name="upload")
async def fx_upload(client, db, settings, users):  # type: ignore[no-untyped-def]
    check_in_id = await started_check_in(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/check-ins/{check_in_id}/walkaround")

    async def send(
        content: bytes,
        client_id: str | None = None,
        position: str = "front",
        name: str = "photo.jpg",
    ):  # type: ignore[no-untyped-def]
        return await client.post(
            f"/check-ins/{check_in_id}/photos",
            data={"client_id": client_id or uuid.uuid4().hex, "position": position},
            files={"file": (name, content, "image/jpeg")},
            headers={"x-csrftoken": token},
        )

    send.check_in_id = check_in_id  # type: ignore[attr-defined]
    return send


async def _photo_rows(db) -> int:  # type: ignore[no-untyped-def]
    await db.rollback()
    return await db.scalar(select(func.count(Photo.id)))


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _stored(settings: Settings) -> list[str]:
    """The keys of every stored file, in the folder or the bucket the settings name."""
    return [f.key for f in open_store(settings).files()]


def _bucket(settings: Settings):  # type: ignore[no-untyped-def]
    return boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name="us-east-1")


async def test_a_photo_is_stored_once_however_often_it_is_sent(upload, db, settings) -> None:
    content = (PHOTOS / "iphone5_orient3_gps.jpg").read_bytes()
    first = await upload(content, client_id="tablet-photo-0001")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["duplicate"] is False
    again = await upload(content, client_id="tablet-photo-0001")
    assert again.status_code == 200
    assert again.json() == {**body, "duplicate": True}
    assert await _photo_rows(db) == 1
    assert len(_stored(settings)) == 2  # display and thumbnail
    row = (await db.scalars(select(Photo))).one()
    assert row.position == "front"
    assert row.bytes_received == len(content)


@pytest.mark.parametrize("settings", ["s3"], indirect=True)
async def test_on_s3_a_photo_is_two_objects_under_the_prefix_and_nothing_on_disk(
    upload, db, settings
) -> None:
    assert (await upload((PHOTOS / "orientation_6.jpg").read_bytes())).status_code == 201
    await db.rollback()
    sha = (await db.scalars(select(Photo.sha256))).one()
    listed = _bucket(settings).list_objects_v2(Bucket=settings.s3_bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == [
        f"photos/{photo_store.display_key(sha)}",
        f"photos/{photo_store.thumb_key(sha)}",
    ]
    assert _files(settings.photos) == []


async def test_the_same_picture_sent_as_two_photos_is_stored_once(
    upload, db, settings, monkeypatch
) -> None:
    store = open_store(settings)
    writes: list[bool] = []
    real_put = store.put

    def put(key: str, data: bytes) -> bool:
        writes.append(real_put(key, data))
        return writes[-1]

    monkeypatch.setattr(store, "put", put)
    content = (PHOTOS / "orientation_6.jpg").read_bytes()
    assert (await upload(content, client_id="tablet-photo-0001")).status_code == 201
    assert (await upload(content, client_id="tablet-photo-0002")).status_code == 201

    assert await _photo_rows(db) == 2  # two photos the advisor took...
    assert writes == [True, True, False, False]  # ...of one picture: stored once
    assert len(_stored(settings)) == 2


async def test_stored_photos_are_served_to_staff_with_cache_headers(upload, client) -> None:
    body = (await upload((PHOTOS / "orientation_6.jpg").read_bytes())).json()
    response = await client.get(body["thumb_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert "private" in response.headers["cache-control"]
    assert response.content[:2] == b"\xff\xd8"
    client.cookies.clear()
    assert (await client.get(body["display_url"])).status_code in (303, 401)


async def test_only_the_roles_that_take_check_in_photos_may_send_one(upload, client, db) -> None:
    client.cookies.clear()
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client)
    refused = await client.post(
        f"/check-ins/{upload.check_in_id}/photos",
        data={"client_id": uuid.uuid4().hex, "position": "front"},
        files={"file": ("photo.jpg", (PHOTOS / "orientation_6.jpg").read_bytes(), "image/jpeg")},
        headers={"x-csrftoken": token},
    )
    assert refused.status_code == 403
    assert await _photo_rows(db) == 0


@pytest.mark.parametrize("settings", ["s3"], indirect=True)  # the folder: test_photo_store
async def test_the_bucket_gives_nothing_to_a_request_without_credentials(upload, settings) -> None:
    await upload((PHOTOS / "orientation_6.jpg").read_bytes())
    bucket = _bucket(settings)
    keys = [o["Key"] for o in bucket.list_objects_v2(Bucket=settings.s3_bucket)["Contents"]]
    assert len(keys) == 2
    async with httpx.AsyncClient(
        base_url=f"{settings.s3_endpoint_url}/{settings.s3_bucket}/"
    ) as anyone:
        for key in keys:
            assert (await anyone.get(key)).status_code == 403, key
            grants = bucket.get_object_acl(Bucket=settings.s3_bucket, Key=key)["Grants"]
            assert not [g for g in grants if "AllUsers" in g["Grantee"].get("URI", "")]
        # The check can fail: an object someone made public is readable without credentials.
        bucket.put_object(Bucket=settings.s3_bucket, Key="public.txt", Body=b"x", ACL="public-read")
        assert (await anyone.get("public.txt")).is_success


@pytest.mark.parametrize(
    ("name", "content", "status", "message"),
    [
        ("notes.jpg", b"this is not a photo, just text\n" * 50, 422, "不是照片"),
        ("cut.jpg", None, 422, "损坏或不完整"),
        ("huge.jpg", b"\xff\xd8" + b"\0" * (60 * 1024 * 1024), 413, "太大"),
    ],
)
async def test_bad_uploads_get_a_clear_message_and_store_nothing(
    upload, db, settings, name, content, status, message
) -> None:
    if content is None:
        content = (PHOTOS / "pixel6_ultrahdr_truncated.jpg").read_bytes()
    response = await upload(content, name=name)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert await _photo_rows(db) == 0
    assert _stored(settings) == []


async def test_a_decompression_bomb_is_refused(upload, db, settings) -> None:
    response = await upload((PHOTOS / "galaxy_s24ultra_200mp.heic").read_bytes(), name="x.heic")
    assert response.status_code == 413
    assert "像素" in response.json()["error"]
    assert await _photo_rows(db) == 0


async def test_a_damage_mark_takes_at_most_six_photos(upload, client, db, settings, users):
    from app.services.audit import Actor
    from app.services.check_in import walkaround
    from tests.checkin_helpers import fresh

    check_in = await fresh(db, upload.check_in_id)
    mark = await walkaround.add_mark(db, check_in, "0.5", "0.5", 1, Actor(None))
    await db.commit()
    content = (PHOTOS / "rgba_alpha.png").read_bytes()
    token = await csrf_token(client, f"/check-ins/{upload.check_in_id}/walkaround")
    statuses = []
    for _n in range(7):
        response = await client.post(
            f"/check-ins/{upload.check_in_id}/photos",
            data={"client_id": uuid.uuid4().hex, "damage_mark_id": str(mark.id)},
            files={"file": ("mark.png", content, "image/png")},
            headers={"x-csrftoken": token},
        )
        statuses.append(response.status_code)
    assert statuses == [201] * 6 + [422]
    assert await _photo_rows(db) == 6


def test_every_page_with_the_outbox_loads_the_photo_preparation_before_it() -> None:
    # Without them the outbox still works, but sends every photo as taken: 13 MP over the
    # dealership's Wi-Fi instead of the tablet's 2000 px copy.
    templates = Path(__file__).resolve().parents[1] / "app" / "templates"
    scripts = ("js/idb-store.js", "js/photo-facts.js", "js/photo-prepare.js", "js/photo-outbox.js")
    pages = [p for p in templates.rglob("*.html") if scripts[-1] in p.read_text()]
    assert len(pages) >= 3  # check-in, the technician's findings, delivery
    for page in pages:
        text = page.read_text()
        where = [text.find(f"asset('{s}')") for s in scripts]
        assert -1 not in where, page
        assert where == sorted(where), page
