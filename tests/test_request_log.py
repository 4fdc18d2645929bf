"""Every response names its request (X-Request-ID), every log line written while it ran says the
same id, an error page shows it so a clerk can quote it, and slow requests are logged with their
time against a configurable threshold."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from app.main import create_app
from app.settings import SettingsError, from_env
from app.web.request_log import JsonFormatter
from tests.conftest import html

pytestmark = pytest.mark.http_layer


async def test_every_response_carries_an_id_and_a_proxys_sane_one_is_kept(client) -> None:
    first = (await client.get("/sign-in")).headers["X-Request-ID"]
    second = (await client.get("/static/css/app.css")).headers["X-Request-ID"]
    unmatched = (await client.get("/no/such/page")).headers["X-Request-ID"]
    assert len({first, second, unmatched}) == 3
    kept = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c21"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a9c21"
    forged = await client.get("/healthz", headers={"X-Request-ID": "x\r\nSet-Cookie: a=b"})
    assert forged.headers["X-Request-ID"] not in ("", "x\r\nSet-Cookie: a=b")


async def test_a_server_error_page_shows_the_id_the_log_line_carries(app, client, caplog) -> None:
    @get("/boom", opt={"public": True})
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app.register(boom)
    response = await client.get("/boom", headers={"X-Request-ID": "clerk-quotes-this"})
    assert response.status_code == 500
    shown = html(response).select_one("[data-testid=request-id]").get_text(strip=True)
    assert shown == "如需求助，请告知此编号：clerk-quotes-this"
    (logged,) = [r for r in caplog.records if r.name == "walkaround" and r.levelno >= 40]
    assert logged.request_id == "clerk-quotes-this"
    line = json.loads(JsonFormatter().format(logged))
    assert line["request_id"] == "clerk-quotes-this"
    assert line["level"] == "ERROR"
    assert "secret internals" in line["exc"]
    assert "secret internals" not in response.text


async def test_a_json_error_carries_the_id(client) -> None:
    response = await client.get("/api/v1/work-orders/none", headers={"X-Request-ID": "api-call-01"})
    assert response.status_code == 401
    assert response.json()["request_id"] == "api-call-01"


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def _slow_lines(settings, threshold_ms: int) -> list[logging.LogRecord]:  # type: ignore[no-untyped-def]
    kept = _Kept()
    logger = logging.getLogger("walkaround.requests")
    async with AsyncTestClient(
        app=create_app(replace(settings, slow_request_ms=threshold_ms))
    ) as c:
        logger.addHandler(kept)  # after start-up, which configures logging afresh
        try:
            await c.get("/sign-in", headers={"X-Request-ID": "slow-one-01"})
        finally:
            logger.removeHandler(kept)
    return kept.records


async def test_requests_slower_than_the_threshold_are_logged_with_their_time(settings) -> None:
    (slow,) = await _slow_lines(settings, 0)
    line = json.loads(JsonFormatter().format(slow))
    assert line["message"] == "slow request"
    assert line["request_id"] == "slow-one-01"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/sign-in", 200)
    assert line["ms"] >= 0
    assert await _slow_lines(settings, 60_000) == []


def test_the_threshold_comes_from_the_environment_and_must_be_a_number() -> None:
    env = {"WALKAROUND_SECRET_KEY": "k" * 40}
    assert from_env({**env, "WALKAROUND_SLOW_REQUEST_MS": "250"}).slow_request_ms == 250
    assert from_env(env).slow_request_ms == 1000
    with pytest.raises(SettingsError, match="WALKAROUND_SLOW_REQUEST_MS"):
        from_env({**env, "WALKAROUND_SLOW_REQUEST_MS": "fast"})
