"""Every request gets an id: on the response (`X-Request-ID`), on every log line written while
it runs, and on the error page, so a clerk can quote it and the log shows what happened. Slow
requests are logged with their time; log lines are JSON, one object per line."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
SCOPE_KEY = "walkaround_request_id"
# A proxy's id is kept when it looks like one; anything else (spaces, newlines) is replaced.
_INCOMING = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# Fields a log call may pass in `extra` that belong in the JSON line.
_FIELDS = ("method", "path", "status", "ms")

request_id: ContextVar[str] = ContextVar("walkaround_request_id", default="-")
log = logging.getLogger("walkaround.requests")


def for_scope(scope: Scope) -> str:
    """This request's id, made now if the request never reached the middleware (no route)."""
    rid = scope.get(SCOPE_KEY)
    if not rid:
        incoming = _incoming(scope)
        rid = incoming or uuid.uuid4().hex[:16]
        scope[SCOPE_KEY] = rid  # type: ignore[literal-required]
    return str(rid)


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _INCOMING.fullmatch(text) else None
    return None


class RequestIdMiddleware(ASGIMiddleware):
    """Sets the id for the request's logs and times it against the slow-request threshold."""

    def __init__(self, slow_ms: int) -> None:
        self.slow_ms = slow_ms

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        token = request_id.set(for_scope(scope))
        started = time.perf_counter()
        seen: dict[str, Any] = {"status": 0, "stream": False}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                kind = MutableScopeHeaders.from_message(message).get("content-type") or ""
                seen["stream"] = kind.startswith("text/event-stream")
            await send(message)

        try:
            await next_app(scope, receive, sending)
        finally:
            ms = round((time.perf_counter() - started) * 1000)
            if ms >= self.slow_ms and not seen["stream"]:  # an open stream is not slow
                log.warning(
                    "slow request",
                    extra={"method": scope.get("method"), "path": scope.get("path"),
                           "status": seen["status"], "ms": ms},
                )  # fmt: skip
            request_id.reset(token)


async def add_header(message: Message, scope: Scope) -> None:
    """before_send: the id on every response, error pages and unmatched routes included."""
    if message["type"] == "http.response.start" and scope["type"] == "http":
        MutableScopeHeaders.from_message(message)[HEADER] = adopt(scope)


def instance_header(instance: str) -> list[Callable[[Message, Scope], Awaitable[None]]]:
    """before_send: which process answered, when the process has a name (several behind
    a proxy); none when it has not, so one process says nothing about itself."""
    if not instance:
        return []

    async def add(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            MutableScopeHeaders.from_message(message)["x-walkaround-instance"] = instance

    return [add]


def adopt(scope: Scope) -> str:
    """Name this request in the logs from here on, where the middleware did not (no route
    matched, or an error raised after it let go): still in the request's own task."""
    rid = for_scope(scope)
    if request_id.get() == "-":
        request_id.set(rid)
    return rid


def stamp_records() -> None:
    """Every log record made from now on carries the id of the request it was made in ("-"
    outside one): set where the record is created, so queues and threads keep it right."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "walkaround_stamps", False):
        return

    def stamped(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = request_id.get()
        return record

    stamped.walkaround_stamps = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(stamped)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        line.update({k: getattr(record, k) for k in _FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def logging_dict() -> dict[str, Any]:
    """Litestar's LoggingConfig: its handlers write JSON lines (stderr, through its queue)."""
    return {
        "formatters": {"standard": {"()": JsonFormatter}},
    }
