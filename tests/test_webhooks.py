"""The webhook outbox against a real HTTP receiver on a local port.

Time is stepped by passing `now` to deliver_due instead of sleeping through
the back-off.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from click.testing import CliRunner
from litestar import post
from litestar.di import NamedDependency
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cli import cli
from app.db import create_engine
from app.main import create_app
from app.models import Customer, Vehicle, WebhookEvent, WorkOrder, WorkOrderStatus
from app.models.base import utcnow
from app.services import work_orders
from app.services.audit import Actor
from app.services.outbound import webhooks
from app.settings import Settings

SECRET = "whsec-test-secret"
ACTOR = Actor(user_id=None)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A dealer system on a local port that answers 500 to the first
    `fail_first` requests and 200 after that."""

    def __init__(self) -> None:
        self.fail_first = 0
        self.requests: list[Received] = []
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    receiver.requests.append(
                        Received({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    failing = len(receiver.requests) <= receiver.fail_first
                text = b"down for maintenance" if failing else b"ok"
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/walkaround"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def accepted(self) -> list[Received]:
        return self.requests[self.fail_first :]

    def payloads(self, requests: list[Received] | None = None) -> list[dict]:  # type: ignore[type-arg]
        return [json.loads(r.body) for r in (self.requests if requests is None else requests)]


@pytest.fixture(name="receiver")
def fx_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
    receiver.thread.join()


@pytest.fixture(name="hook_settings")
def fx_hook_settings(settings: Settings, receiver: Receiver) -> Settings:
    return replace(settings, webhook_url=receiver.url, webhook_secret=SECRET)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


async def new_order(db: AsyncSession, n: int) -> WorkOrder:
    customer = Customer(name=f"客户{n}", phone=f"1390000000{n}")
    vehicle = Vehicle(plate=f"粤A0000{n}", make="BYD", model="Han", customer=customer)
    order = WorkOrder(number=f"WO-{n}", customer=customer, vehicle=vehicle)
    db.add(order)
    await db.flush()
    return order


async def change(db: AsyncSession, order: WorkOrder, to: WorkOrderStatus) -> None:
    work_orders.change_status(db, order, to, ACTOR)
    await db.commit()


async def all_events(session_maker: async_sessionmaker[AsyncSession]) -> list[WebhookEvent]:
    async with session_maker() as session:
        return list((await session.scalars(select(WebhookEvent).order_by(WebhookEvent.id))).all())


def later() -> datetime:
    """A moment safely after every event enqueued so far."""
    return utcnow() + timedelta(seconds=1)


# -- signing --------------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = '{"id":"e1","type":"work_order.status_changed"}'
    expected = hmac.new(b"s3cret", b"1764000000." + body.encode(), hashlib.sha256).hexdigest()
    assert webhooks.sign("s3cret", 1764000000, body) == expected
    assert webhooks.sign("other", 1764000000, body) != expected


def test_retries_back_off_exponentially_up_to_an_hour() -> None:
    for attempts, seconds in [(1, 10), (2, 20), (3, 40), (4, 80)]:
        delay = webhooks.backoff(attempts).total_seconds()
        assert seconds <= delay <= seconds * 1.1
    assert 3600 <= webhooks.backoff(30).total_seconds() <= 3960


# -- the outbox is transactional ----------------------------------------------------------


async def test_a_rolled_back_status_change_leaves_no_event(db, session_maker) -> None:
    order = await new_order(db, 1)
    await db.commit()
    order_id = order.id
    work_orders.change_status(db, order, WorkOrderStatus.ESTIMATE, ACTOR)
    await db.rollback()
    assert await all_events(session_maker) == []

    order = await db.get(WorkOrder, order_id)
    assert order.status == WorkOrderStatus.CHECK_IN
    await change(db, order, WorkOrderStatus.ESTIMATE)
    [event] = await all_events(session_maker)
    assert event.event_type == "work_order.status_changed"
    assert event.work_order_id == order.id
    assert event.payload["data"] == {
        "work_order_id": order.id, "number": "WO-1", "from": "check_in", "to": "estimate",
    }  # fmt: skip


# -- delivery ----------------------------------------------------------------------------


async def test_a_failing_receiver_gets_the_event_exactly_once_when_it_recovers(
    db, session_maker, receiver, hook_settings
) -> None:
    receiver.fail_first = 2
    order = await new_order(db, 1)
    await change(db, order, WorkOrderStatus.ESTIMATE)
    t0 = later()
    async with httpx.AsyncClient() as http:
        assert await webhooks.deliver_due(session_maker, hook_settings, http, now=t0) == 0
        [event] = await all_events(session_maker)
        assert (event.attempts, event.last_status, event.delivered_at) == (1, 500, None)
        assert event.last_error == "HTTP 500: down for maintenance"
        assert t0 + timedelta(seconds=10) <= event.next_attempt_at <= t0 + timedelta(seconds=11)

        # Not due yet: nothing is sent.
        t1 = t0 + timedelta(seconds=5)
        assert await webhooks.deliver_due(session_maker, hook_settings, http, now=t1) == 0
        assert len(receiver.requests) == 1

        t2 = t0 + timedelta(seconds=12)
        assert await webhooks.deliver_due(session_maker, hook_settings, http, now=t2) == 0
        [event] = await all_events(session_maker)
        assert event.attempts == 2
        assert t2 + timedelta(seconds=20) <= event.next_attempt_at <= t2 + timedelta(seconds=22)

        t3 = t2 + timedelta(seconds=23)
        assert await webhooks.deliver_due(session_maker, hook_settings, http, now=t3) == 1
        # Delivered means done: later runs send nothing more.
        t4 = t3 + timedelta(hours=2)
        assert await webhooks.deliver_due(session_maker, hook_settings, http, now=t4) == 0

    [event] = await all_events(session_maker)
    assert (event.attempts, event.last_status, event.last_error) == (3, 200, "")
    assert event.delivered_at == t3
    assert len(receiver.requests) == 3
    assert len(receiver.accepted) == 1
    # Every attempt is the same delivery, so a receiver can de-duplicate on its id.
    assert {r.headers["x-walkaround-delivery"] for r in receiver.requests} == {event.event_id}
    assert receiver.payloads(receiver.accepted) == [event.payload]


async def test_the_receiver_can_verify_every_request_with_the_shared_secret(
    db, session_maker, receiver, hook_settings
) -> None:
    order = await new_order(db, 1)
    await change(db, order, WorkOrderStatus.ESTIMATE)
    now = later()
    async with httpx.AsyncClient() as http:
        await webhooks.deliver_due(session_maker, hook_settings, http, now=now)
    [request] = receiver.requests
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-walkaround-event"] == "work_order.status_changed"
    assert headers["x-walkaround-timestamp"] == str(int(now.timestamp()))
    timestamp = headers["x-walkaround-timestamp"].encode()
    expected = hmac.new(SECRET.encode(), timestamp + b"." + request.body, hashlib.sha256)
    assert headers["x-walkaround-signature"] == f"sha256={expected.hexdigest()}"
    forged = hmac.new(b"guess", timestamp + b"." + request.body, hashlib.sha256)
    assert headers["x-walkaround-signature"] != f"sha256={forged.hexdigest()}"


async def test_events_of_one_order_arrive_in_order_even_when_the_first_fails(
    db, session_maker, receiver, hook_settings
) -> None:
    receiver.fail_first = 1
    first = await new_order(db, 1)
    second = await new_order(db, 2)
    await change(db, first, WorkOrderStatus.ESTIMATE)
    await change(db, first, WorkOrderStatus.SIGNED)
    await change(db, second, WorkOrderStatus.ESTIMATE)
    async with httpx.AsyncClient() as http:
        # The first order's first event fails; its second waits behind it,
        # while the other order's event is not held up.
        assert await webhooks.deliver_due(session_maker, hook_settings, http, now=later()) == 1
        sent = [(p["data"]["number"], p["data"]["to"]) for p in receiver.payloads()]
        assert sent == [("WO-1", "estimate"), ("WO-2", "estimate")]

        retry = later() + timedelta(hours=1)
        assert await webhooks.deliver_due(session_maker, hook_settings, http, now=retry) == 2
    accepted = [
        (p["data"]["number"], p["data"]["to"]) for p in receiver.payloads(receiver.accepted)
    ]
    assert accepted == [("WO-2", "estimate"), ("WO-1", "estimate"), ("WO-1", "signed")]
    assert all(event.delivered_at for event in await all_events(session_maker))


async def test_an_unreachable_receiver_leaves_the_event_pending_with_the_error(
    db, session_maker, settings
) -> None:
    order = await new_order(db, 1)
    await change(db, order, WorkOrderStatus.ESTIMATE)
    down = replace(settings, webhook_url=closed_port_url(), webhook_secret=SECRET)
    now = later()
    async with httpx.AsyncClient() as http:
        assert await webhooks.deliver_due(session_maker, down, http, now=now) == 0
    [event] = await all_events(session_maker)
    assert event.delivered_at is None
    assert event.attempts == 1
    assert event.last_status is None
    assert event.last_error.startswith("ConnectError")
    assert event.next_attempt_at > now
    async with session_maker() as session:
        status = await webhooks.outbox_status(session)
    assert (status.pending, status.failing, status.delivered) == (1, 1, 0)


async def test_two_workers_at_once_never_send_an_event_twice(
    db, session_maker, receiver, hook_settings
) -> None:
    for n in range(1, 6):
        await change(db, await new_order(db, n), WorkOrderStatus.ESTIMATE)
    now = later()
    async with httpx.AsyncClient() as http:
        counts = await asyncio.gather(
            webhooks.deliver_due(session_maker, hook_settings, http, now=now),
            webhooks.deliver_due(session_maker, hook_settings, http, now=now),
        )
    assert sum(counts) == 5
    delivery_ids = [r.headers["x-walkaround-delivery"] for r in receiver.requests]
    assert len(delivery_ids) == len(set(delivery_ids)) == 5


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_worker_skips_an_event_another_process_holds_and_keeps_its_order_back(
    db, session_maker, settings
) -> None:
    """Several processes each run a dispatcher: while one holds an event's row (claiming
    it), another neither waits for it nor sends that order's next event before it, but
    goes on with another order's."""
    first, second = await new_order(db, 1), await new_order(db, 2)
    await change(db, first, WorkOrderStatus.ESTIMATE)
    await change(db, first, WorkOrderStatus.IN_PROGRESS)
    await change(db, second, WorkOrderStatus.ESTIMATE)
    held, held_back, other = await all_events(session_maker)
    other_process = create_engine(settings.database_url)
    try:
        async with other_process.connect() as connection, connection.begin():
            await connection.execute(
                select(WebhookEvent.id).where(WebhookEvent.id == held.id).with_for_update()
            )
            claimed = await asyncio.wait_for(webhooks._claim(session_maker, later()), 5)
            assert claimed is not None
            assert claimed.id == other.id, "the held event's order must wait its turn"
            assert held_back.work_order_id == held.work_order_id
            assert await asyncio.wait_for(webhooks._claim(session_maker, later()), 5) is None
    finally:
        await other_process.dispose()
    # Released (the other process let go without sending): it is claimed next.
    claimed = await webhooks._claim(session_maker, later())
    assert claimed is not None
    assert claimed.id == held.id


async def test_nothing_is_sent_without_a_webhook_url(db, session_maker, settings) -> None:
    order = await new_order(db, 1)
    await change(db, order, WorkOrderStatus.ESTIMATE)
    async with httpx.AsyncClient() as http:
        assert await webhooks.deliver_due(session_maker, settings, http, now=later()) == 0
    [event] = await all_events(session_maker)
    assert event.attempts == 0


# -- the background dispatcher --------------------------------------------------------


async def test_the_app_dispatcher_delivers_soon_after_a_commit_and_stops_on_shutdown(
    db, receiver, hook_settings
) -> None:
    order = await new_order(db, 1)
    await db.commit()
    app = create_app(hook_settings)

    @post("/test/advance/{order_id:int}", opt={"public": True}, exclude_from_csrf=True)
    async def advance(db_session: NamedDependency[AsyncSession], order_id: int) -> None:
        found = await db_session.get(WorkOrder, order_id)
        assert found is not None
        work_orders.change_status(db_session, found, WorkOrderStatus.ESTIMATE, ACTOR)

    app.register(advance)
    async with AsyncTestClient(app=app) as client:
        await asyncio.sleep(0.5)  # the dispatcher's first run is over: it waits for 5 s now
        response = await client.post(f"/test/advance/{order.id}")
        assert response.status_code == 201
        for _ in range(60):  # up to 3 s, well before the next poll
            if receiver.requests:
                break
            await asyncio.sleep(0.05)
        assert [p["data"]["to"] for p in receiver.payloads()] == ["estimate"]
        task = app.state.webhook_dispatcher
        assert not task.done()
    assert task.done()


async def test_the_app_runs_no_dispatcher_without_a_webhook_url(app) -> None:
    async with AsyncTestClient(app=app):
        pass
    assert "webhook_dispatcher" not in app.state


# -- command line -------------------------------------------------------------------------


def test_the_cli_delivers_what_is_due_and_reports_the_outbox(
    hook_settings, receiver, monkeypatch
) -> None:
    async def arrange() -> None:
        engine = create_engine(hook_settings.database_url)
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            await change(session, await new_order(session, 1), WorkOrderStatus.ESTIMATE)
            await change(session, await new_order(session, 2), WorkOrderStatus.ESTIMATE)
            assert await session.scalar(select(func.count(WebhookEvent.id))) == 2
        await engine.dispose()

    asyncio.run(arrange())
    monkeypatch.setenv("WALKAROUND_DATABASE_URL", hook_settings.database_url)
    monkeypatch.setenv("WALKAROUND_DATA_DIR", str(hook_settings.data_dir))
    monkeypatch.setenv("WALKAROUND_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("WALKAROUND_WEBHOOK_SECRET", SECRET)
    runner = CliRunner()
    receiver.fail_first = 1
    before = runner.invoke(cli, ["webhooks", "status"])
    assert before.exit_code == 0, before.output
    assert "pending 2 (failing 0), delivered 0" in before.output

    run = runner.invoke(cli, ["webhooks", "deliver"])
    assert run.exit_code == 0, run.output
    assert "delivered 1; still pending 1" in run.output
    assert "pending 1 (failing 1), delivered 1" in runner.invoke(cli, ["webhooks", "status"]).output

    monkeypatch.delenv("WALKAROUND_WEBHOOK_URL")
    refused = runner.invoke(cli, ["webhooks", "deliver"])
    assert refused.exit_code != 0
    assert "WALKAROUND_WEBHOOK_URL" in refused.output
