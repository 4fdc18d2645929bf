"""Messages to customers: the signed work order by e-mail, texts through an SMS adapter.

Every message is a row in the outbox (`OutboundMessage`) that staff can see, whatever
happened to it: queued, sent, or failed with the reason.
"""

from __future__ import annotations

import asyncio
import json
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError, InvalidInput
from app.i18n import Formatter, _, locale_as
from app.models import OutboundMessage, Signature, WorkOrder
from app.models.base import utcnow
from app.services.verify import customer as customer_verify
from app.settings import Settings
from app.text import clean_text

SMTP_TIMEOUT_SECONDS = 10
MAX_ADDRESS = 200
# One @, something before it, a dotted domain after it, no spaces or list separators:
# enough to catch a typo at the counter; the mail server has the final word.
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]{2,}")
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{5,30}")


class MailNotSent(DomainError):
    """The mail server refused the message or could not be reached."""

    status_code = 502


def check_address(address: str | None) -> str:
    clean = clean_text(address or "", "email").strip()
    if not clean:
        raise InvalidInput(_("Enter the customer's e-mail address."), field="email")
    if len(clean) > MAX_ADDRESS or not _ADDRESS.fullmatch(clean):
        raise InvalidInput(
            _("“%(address)s” is not an e-mail address. Check it, e.g. name@example.com.",
              address=clean[:80]),
            field="email",
        )  # fmt: skip
    return clean


def attachment_name(number: str) -> str:
    """The PDF's file name in the current language."""
    return _("work-order-%(number)s.pdf", number=number)


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str
    filename: str


def letter(signature: Signature, content: dict[str, Any], settings: Settings) -> Letter:
    """Subject, text and file name, in the language the customer signed in."""
    order = content.get("order", {})
    number = str(order.get("number", ""))
    fmt = Formatter(settings.timezone, order.get("currency") or settings.currency)
    with locale_as(signature.locale):
        promised = content.get("promised_at")
        lines = [
            _("Dear %(name)s,", name=content.get("customer", {}).get("name", "")),
            "",
            _("Attached is your signed service work order %(number)s from %(dealer)s.",
              number=number, dealer=content.get("dealership", {}).get("name", "")),
            _("Total: %(total)s", total=fmt.money(Decimal(content["totals"]["total"]))),
        ]  # fmt: skip
        if promised:
            lines.append(
                _("Promised time: %(time)s",
                  time=fmt.datetime(datetime.fromisoformat(promised), "medium"))
            )  # fmt: skip
        lines += [
            "",
            _("SHA-256 of the signed record: %(hash)s", hash=signature.content_hash),
            _("To check that your copy is unchanged, open %(url)s.",
              url=customer_verify.url(settings, signature.id)),
        ]  # fmt: skip
        return Letter(
            subject=_("Your service work order %(number)s", number=number),
            body="\n".join(lines) + "\n",
            filename=attachment_name(number),
        )


def _email(settings: Settings, to: str, mail: Letter, pdf: bytes) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    message.set_content(mail.body)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=mail.filename)
    return message


def _deliver(settings: Settings, message: EmailMessage) -> None:
    """Blocking SMTP conversation; run in a worker thread."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


async def send_work_order(
    session: AsyncSession, settings: Settings, signature: Signature, pdf: bytes, to: str
) -> OutboundMessage:
    """E-mail the signed work order as a PDF; the outbox row says what became of it."""
    address = check_address(to)  # before anything is written: a typo changes nothing
    content = json.loads(signature.content)
    mail = letter(signature, content, settings)
    row = OutboundMessage(
        channel="email",
        recipient=address,
        subject=mail.subject,
        body=mail.body,
        attachment_name=mail.filename,
        work_order_id=signature.work_order_id,
        status="queued",
    )
    return await _send(session, settings, row, _email(settings, address, mail, pdf))


async def send_text(
    session: AsyncSession,
    settings: Settings,
    to: str,
    subject: str,
    body: str,
    work_order_id: int | None,
) -> OutboundMessage:
    """A plain e-mail to a customer (an approval link, say), recorded in the outbox."""
    address = check_address(to)
    row = OutboundMessage(
        channel="email", recipient=address, subject=subject, body=body,
        work_order_id=work_order_id, status="queued",
    )  # fmt: skip
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = address
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    message.set_content(body)
    return await _send(session, settings, row, message)


async def _send(
    session: AsyncSession, settings: Settings, row: OutboundMessage, message: EmailMessage
) -> OutboundMessage:
    """Commit the outbox row, talk to the mail server, commit the outcome.

    The row is committed before the mail server is contacted and again with the
    outcome: the SMTP conversation (up to the timeout) never holds the database's
    write lock, and a failure stays on record even though the request that asked
    for the e-mail answers with an error. Without an SMTP host the row stays queued.
    """
    session.add(row)
    await session.commit()
    if not settings.smtp_host:
        return row
    try:
        await asyncio.to_thread(_deliver, settings, message)
    except (smtplib.SMTPException, OSError) as exc:
        row.status = "failed"
        row.error = f"{type(exc).__name__}: {exc}"[:2000]
        await session.commit()
        raise MailNotSent(
            _("The e-mail to %(address)s could not be sent (%(error)s). "
              "It is in the outbox; check the address or try again later.",
              address=row.recipient, error=row.error[:200])
        ) from exc  # fmt: skip
    row.status = "sent"
    row.sent_at = utcnow()
    row.error = ""
    await session.commit()
    return row


# -- SMS -------------------------------------------------------------------


class SmsAdapter(Protocol):
    """Sends one text message; a gateway adapter raises when the gateway refuses it."""

    async def send(self, to: str, body: str) -> None: ...


@dataclass
class OutboxSmsAdapter:
    """The default: sends nothing. The text waits in the outbox (status queued) and
    staff read it there and send it from the dealership's phone. Keeps the row it wrote,
    for a record that points at its message (a reminder contact, a booking's history)."""

    session: AsyncSession
    work_order_id: int | None = None
    row: OutboundMessage | None = None

    async def send(self, to: str, body: str) -> None:
        self.row = OutboundMessage(
            channel="sms",
            recipient=to,
            body=body,
            work_order_id=self.work_order_id,
            status="queued",
        )
        self.session.add(self.row)
        await self.session.flush()


def check_phone(number: str | None) -> str:
    clean = " ".join((number or "").split())
    if not _PHONE.fullmatch(clean):
        raise InvalidInput(_("Enter a mobile number for the text message."), field="phone")
    return clean


async def send_sms(
    session: AsyncSession,
    to: str,
    body: str,
    work_order_id: int | None,
    adapter: SmsAdapter | None = None,
) -> None:
    """A text to a customer (an approval link, say) through `adapter`, the outbox by default."""
    number = check_phone(to)
    text = body.strip()
    if not text:
        raise InvalidInput(_("The text message is empty."))
    await (adapter or OutboxSmsAdapter(session, work_order_id)).send(number, text)


# -- the outbox page -------------------------------------------------------


# Whoever holds an approval link can approve added work as the customer: staff see
# only its first characters, enough to tell two links apart.
_APPROVAL_LINK = re.compile(r"(/approve/)([A-Za-z0-9_-]{4})[A-Za-z0-9_-]*")


def masked(body: str) -> str:
    return _APPROVAL_LINK.sub(r"\1\2••••••", body)


async def recent(session: AsyncSession, limit: int = 200) -> list[tuple[OutboundMessage, str, str]]:
    """The newest messages first, each with its work order's number ("" for none) and
    its text as staff may see it (approval links masked)."""
    rows = await session.execute(
        select(OutboundMessage, WorkOrder.number)
        .outerjoin(WorkOrder, WorkOrder.id == OutboundMessage.work_order_id)
        .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc())
        .limit(limit)
    )
    return [(message, number or "", masked(message.body)) for message, number in rows.tuples()]
