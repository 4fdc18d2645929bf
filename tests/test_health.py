from __future__ import annotations

from dataclasses import replace

from litestar.testing import AsyncTestClient

from app.main import create_app


async def test_health_says_the_database_answers_and_photos_are_writable(client, backend) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "detail": backend.name}
    assert body["photos"]["ok"] is True


async def test_health_fails_when_the_photo_directory_is_not_writable(settings, tmp_path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the photo directory should be")
    app = create_app(replace(settings, photo_dir=blocker / "photos"))
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["photos"]["ok"] is False
    assert body["database"]["ok"] is True


async def test_health_fails_when_the_database_does_not_answer(settings) -> None:
    # A PostgreSQL port nothing listens on: the connection is refused.
    dead = "postgresql+asyncpg://postgres@127.0.0.1:9/walkaround"
    app = create_app(replace(settings, database_url=dead))
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False
