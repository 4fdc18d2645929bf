"""E-mail through a real SMTP server (aiosmtpd, in the test), texts and the outbox page."""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.main import create_app
from app.models import OutboundMessage, Role
from app.services.outbound import mailer
from app.settings import Settings
from tests.conftest import csrf_token, html, sign_in
from tests.estimate_helpers import order, signature, signed_order
from tests.test_supplements import priced_supplement, send_link


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[str] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.recipients += envelope.rcpt_tos
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture(name="inbox")
def fx_inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    yield handler, port
    server.stop()


async def client_for(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(settings), base_url="http://testserver.local") as c:
        c.follow_redirects = False
        yield c


@pytest.fixture(name="mail_client")
async def fx_mail_client(
    settings: Settings, inbox: tuple[Inbox, int]
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with its SMTP host pointing at the test's server."""
    smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=inbox[1])
    async for client in client_for(smtp):
        yield client


@pytest.fixture(name="down_client")
async def fx_down_client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with an SMTP host where nothing listens."""
    smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=free_port())
    async for client in client_for(smtp):
        yield client


async def outbox_rows(db: Any) -> list[OutboundMessage]:
    await db.rollback()  # a fresh snapshot: the app committed in its own session
    return list((await db.scalars(select(OutboundMessage).order_by(OutboundMessage.id))).all())


async def email_as_advisor(
    client: AsyncTestClient[Litestar], order_id: int, email: str, htmx: bool = True
) -> Any:
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client)
    headers = {"HX-Request": "true"} if htmx else {}
    return await client.post(
        f"/work-orders/{order_id}/email",
        data={"email": email, "_csrf_token": token},
        headers=headers,
    )


def toast(response: Any) -> dict[str, Any]:
    return dict(json.loads(response.headers["hx-trigger"])["wa:toast"])


async def test_the_signed_pdf_arrives_by_email_and_the_outbox_says_sent(
    mail_client, inbox, db, settings, users
) -> None:
    order_id, _signature_id = await signed_order(db, settings, users, locale="en")
    number = (await order(db, order_id)).number

    response = await email_as_advisor(mail_client, order_id, "customer@example.com")

    assert response.status_code == 200, response.text
    assert toast(response)["level"] == "ok"
    assert "customer@example.com" in toast(response)["message"]
    received, _port = inbox
    assert received.recipients == ["customer@example.com"]
    [message] = received.messages
    assert number in message["Subject"]
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"work-order-{number}.pdf"]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content().startswith(b"%PDF")
    [row] = await outbox_rows(db)
    assert (row.channel, row.recipient, row.status, row.error) == (
        "email", "customer@example.com", "sent", ""
    )  # fmt: skip
    assert row.sent_at is not None
    assert row.work_order_id == order_id
    assert row.attachment_name == f"work-order-{number}.pdf"


async def test_the_address_defaults_to_the_customers_and_a_plain_form_post_ends_in_303(
    mail_client, inbox, db, settings, users
) -> None:
    order_id, _signature_id = await signed_order(db, settings, users)
    wo = await order(db, order_id)
    wo.customer.email = "on-file@example.com"
    await db.commit()

    response = await email_as_advisor(mail_client, order_id, "", htmx=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/outbox"
    assert inbox[0].recipients == ["on-file@example.com"]
    # The customer signed in Chinese: the e-mail and the file name are in Chinese too.
    [message] = inbox[0].messages
    assert message["Subject"] == f"您的维修委托书 {wo.number}"
    assert [a.get_filename() for a in message.iter_attachments()] == [f"维修委托书-{wo.number}.pdf"]


async def test_with_the_mail_server_down_the_row_is_failed_and_the_advisor_told(
    down_client, db, settings, users
) -> None:
    order_id, _signature_id = await signed_order(db, settings, users)

    response = await email_as_advisor(down_client, order_id, "customer@example.com")

    assert response.status_code == 502
    message = toast(response)["message"]
    assert "customer@example.com" in message
    assert "Connection" in message  # the reason, e.g. ConnectionRefusedError
    [row] = await outbox_rows(db)
    assert row.status == "failed"
    assert "ConnectionRefusedError" in row.error
    assert row.sent_at is None


@pytest.mark.parametrize(
    "address", ["not-an-address", "a@b", "two@example.com, x@y.com", " ", "x@y.c"]
)
def test_an_address_that_cannot_be_one_is_refused_with_its_field(address: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        mailer.check_address(address)
    assert refused.value.field == "email"


def test_an_ordinary_address_is_accepted_without_its_spaces() -> None:
    assert mailer.check_address(" wang.wei+car@mail.example.cn ") == "wang.wei+car@mail.example.cn"


async def test_a_bad_address_is_refused_and_nothing_is_written(
    mail_client, inbox, db, settings, users
) -> None:
    order_id, _signature_id = await signed_order(db, settings, users)

    response = await email_as_advisor(mail_client, order_id, "wang@example")

    assert response.status_code == 422
    assert toast(response)["field"] == "email"
    assert "wang@example" in toast(response)["message"]
    assert await outbox_rows(db) == []
    assert inbox[0].messages == []


async def test_a_technician_cannot_email_the_customers_copy(
    mail_client, inbox, db, settings, users
) -> None:
    order_id, _signature_id = await signed_order(db, settings, users)
    await sign_in(mail_client, Role.TECHNICIAN)
    token = await csrf_token(mail_client)

    response = await mail_client.post(
        f"/work-orders/{order_id}/email", data={"email": "x@example.com", "_csrf_token": token}
    )

    assert response.status_code == 403
    assert inbox[0].messages == []


async def test_without_an_smtp_host_the_email_waits_in_the_outbox(db, settings, users) -> None:
    _order_id, signature_id = await signed_order(db, settings, users)
    sig = await signature(db, signature_id)

    row = await mailer.send_work_order(db, settings, sig, b"%PDF-1.7 test", "c@example.com")

    assert row.status == "queued"
    assert row.subject
    assert sig.content_hash in row.body
    assert (await outbox_rows(db))[0].status == "queued"


async def test_an_sms_goes_to_the_outbox_for_staff_to_send(db, settings, users) -> None:
    order_id, _signature_id = await signed_order(db, settings, users)

    await mailer.send_sms(db, "138 0013 8000", "Please approve: https://x/a/1", order_id)
    await db.commit()

    [row] = await outbox_rows(db)
    assert (row.channel, row.recipient, row.status, row.work_order_id) == (
        "sms", "138 0013 8000", "queued", order_id
    )  # fmt: skip
    assert row.body == "Please approve: https://x/a/1"


async def test_an_sms_adapter_can_deliver_instead_of_the_outbox(db, settings, users) -> None:
    sent: list[tuple[str, str]] = []

    class Gateway:
        async def send(self, to: str, body: str) -> None:
            sent.append((to, body))

    await mailer.send_sms(db, "+86 138 0013 8000", "Your car is ready", None, adapter=Gateway())

    assert sent == [("+86 138 0013 8000", "Your car is ready")]
    with pytest.raises(InvalidInput):
        await mailer.send_sms(db, "call me", "text", None)
    assert await db.scalar(select(func.count(OutboundMessage.id))) == 0


async def test_the_outbox_lists_messages_newest_first(client, db, settings, users) -> None:
    order_id, _signature_id = await signed_order(db, settings, users)
    await mailer.send_sms(db, "13800138000", "first", order_id)
    await mailer.send_sms(db, "13900139000", "second", order_id)
    await db.commit()
    await sign_in(client, Role.CUSTOMER_RELATIONS)

    response = await client.get("/outbox")

    assert response.status_code == 200
    rows = html(response).select("[data-testid=message]")
    assert [r.select("[data-testid=recipient]")[0].get_text(strip=True) for r in rows] == [
        "13900139000",
        "13800138000",
    ]
    assert {r["data-status"] for r in rows} == {"queued"}
    assert html(response).select_one('nav a[href="/outbox"]') is not None


async def test_a_technician_does_not_see_the_outbox(client, users) -> None:
    await sign_in(client, Role.TECHNICIAN)

    response = await client.get("/outbox")

    assert response.status_code == 403


async def test_the_outbox_shows_approval_links_masked(client, db, settings, users) -> None:
    """Staff could approve added work as the customer with a live link: they see it
    masked; the message itself keeps the whole link for whoever carries it."""
    _order_id, supplement_id = await priced_supplement(db, settings, users)
    token = await send_link(db, settings, users, supplement_id)
    await sign_in(client, Role.ADVISOR)

    response = await client.get("/outbox")

    assert response.status_code == 200
    assert token not in response.text
    assert token[4:12] not in response.text
    body = html(response).select_one("[data-testid=message-body]").get_text()
    assert f"/approve/{token[:4]}••••••" in body
    [row] = await outbox_rows(db)
    assert f"/approve/{token}" in row.body
