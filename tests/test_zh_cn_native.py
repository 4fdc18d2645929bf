"""zh-CN reads native: full-width punctuation after Chinese, the trade's own words, and no
English in what the customer sees (the review, the thanks page, the verify page, the PDF,
error pages) nor in any status badge."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from sqlalchemy import select

from app.i18n import locale_as
from app.models import Concern, Role, Signature, SignatureKind, StaffUser
from app.models.supplement import SupplementStatus
from app.models.work_order import WorkOrderStatus
from app.models.workshop import TaskStatus
from app.services import dealership as dealerships
from app.services.documents import work_order_pdf
from app.services.storage.configured import open_store
from app.services.supplements import findings
from app.services.verify import customer as customer_verify
from app.web.templating import build_environment
from tests.conftest import USERNAMES, csrf_token, html, sign_in
from tests.estimate_helpers import ink, order, priced_estimate, signed_order

PO = Path(__file__).resolve().parent.parent / "app/translations/zh_CN/LC_MESSAGES/messages.po"
CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
# ASCII , ? : ; ! ( ) right after a Chinese character (a space between does not excuse it),
# or an ASCII "(" opening Chinese words.
ASCII_AFTER_CJK = re.compile(rf"[{CJK}] ?[,?:;!()]|\( ?[{CJK}]")
# A word as English writes it ("draft", "Approved", "technician's"); codes, tokens and
# fingerprints ("L-OIL", "MCvwAy3") are not words to translate.
WORD = re.compile(r"(?<![A-Za-z0-9_-])[A-Z]?[a-z]+(?:['’][a-z]+)?(?![A-Za-z0-9_-])")
# Words a Chinese reader expects in Latin letters: codes, brands, file types.
# "English" is the language switch, named in itself.
ALLOWED = {"VIN", "PDF", "SHA", "QR", "ABS", "Walkaround", "English"}


def _messages() -> list[tuple[str, str]]:
    with PO.open("rb") as po:
        catalogue = read_po(po, locale="zh_CN")
    found = []
    for m in catalogue:
        if not m.id:
            continue
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        for text in m.string if isinstance(m.string, tuple) else (m.string,):
            found.append((msgid, text))
    return found


def _without_placeholders(text: str) -> str:
    return re.sub(r"%\(\w+\)[sd]|%[sd]|\{\w+\}", "", text)


def test_no_zh_cn_string_puts_ascii_punctuation_after_chinese() -> None:
    wrong = [
        (msgid, text)
        for msgid, text in _messages()
        if ASCII_AFTER_CJK.search(_without_placeholders(text))
    ]
    assert wrong == []


def test_the_checker_sees_ascii_punctuation_after_chinese() -> None:
    for bad in ("客户是否同意?", "车牌,电话", "说明:", "里程(公里)", "备注 (可选)"):
        assert ASCII_AFTER_CJK.search(bad), bad
    for good in ("客户是否同意？", "车牌、电话", "里程（公里）", "VIN 码 17 位", "SHA-256: %s"):
        assert not ASCII_AFTER_CJK.search(good), good


def test_zh_cn_strings_use_the_trades_words() -> None:
    texts = [_without_placeholders(text) for _msgid, text in _messages()]
    # Four covers (seat, steering wheel, gear lever, floor mat): 四件套, not 三件套.
    assert not [t for t in texts if "三件套" in t]
    assert not [t for t in texts if "百万像素" in t]  # 5000 万像素
    # One unit for distance: 公里, never "km" beside it.
    assert not [t for t in texts if re.search(r"\bkm\b", t)]
    # The 5W2H labels are read back to the customer: no English tags like （What）.
    assert not [t for t in texts if re.search(r"[（(]\s*(What|When|Where|Who|Why|How)", t)]


def _english_words(page: BeautifulSoup, allowed: set[str]) -> list[str]:
    """English words in what the page shows; also fails on ASCII punctuation after Chinese."""
    for hidden in page(["script", "style", "code", "template"]):
        hidden.decompose()
    texts = [page.get_text(" ")]
    shown = re.sub(r"[a-z]+://[!-~]+", " ", page.get_text(""))
    found = ASCII_AFTER_CJK.search(shown)
    assert not found, shown[max(0, found.start() - 40) : found.end() + 40]
    for tag in page.find_all(True):
        texts += [str(tag.get(a, "")) for a in ("aria-label", "placeholder", "title", "alt")]
    # Links are machine text, printed to be typed.
    texts = [re.sub(r"[a-z]+://[!-~]+", " ", t) for t in texts]
    words = {w for t in texts for w in WORD.findall(t) if len(w) > 1}
    return sorted(words - ALLOWED - allowed)


async def test_what_the_customer_sees_in_zh_cn_has_no_english(client, db, settings, users) -> None:
    order_id = await priced_estimate(db, settings, users)
    wo = await order(db, order_id)
    # Tap choices saved by an advisor working in English are read back in Chinese.
    concern = (await db.scalars(select(Concern).limit(1))).one()
    concern.when, concern.how_much = "cold start, at speed", "sometimes"
    await db.commit()
    vehicle = wo.vehicle
    dealership = await dealerships.current(db)
    staff = await db.get(StaffUser, users[Role.ADVISOR])
    assert staff is not None
    names = [vehicle.make, vehicle.model, vehicle.plate, vehicle.vin, wo.number, staff.display_name]
    # Names: the dealership's, the car's, the advisor's; the plate, VIN and order number.
    allowed = set(
        WORD.findall(" ".join([*(n or "" for n in names), dealership.name if dealership else ""]))
    )

    await sign_in(client, Role.ADVISOR)  # the advisor's language is zh_CN
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    entered = await client.post(
        f"/work-orders/{order_id}/customer-mode", data={"_csrf_token": token}
    )
    assert entered.status_code == 303, entered.text
    review = await client.get(f"/review/{order_id}")
    assert review.status_code == 200
    page = html(review)
    assert page.html["lang"] == "zh-CN"
    assert "冷车启动、" in page.get_text()
    words = _english_words(page, allowed)
    assert words == []

    strokes, image = ink()
    signed = await client.post(
        f"/review/{order_id}/sign",
        data={"_csrf_token": token, "signer_name": wo.customer.name, "strokes": strokes,
              "image": image, "version": str((await order(db, order_id)).version)},
    )  # fmt: skip
    assert signed.status_code in (200, 303), signed.text
    thanks = await client.get(f"/review/{order_id}/thanks")
    assert thanks.status_code == 200
    assert _english_words(html(thanks), allowed) == []

    await db.rollback()  # a new snapshot, to see what the app committed
    sig = (
        await db.scalars(
            select(Signature).where(
                Signature.work_order_id == order_id, Signature.kind == SignatureKind.WORK_ORDER
            )
        )
    ).one()
    verify_path = customer_verify.url(settings, sig.id).removeprefix(settings.public_url)
    verify = await client.get(verify_path)
    assert verify.status_code == 200
    words = _english_words(html(verify), allowed)
    assert words == []

    document = work_order_pdf.html(sig, json.loads(sig.content), open_store(settings), settings)
    pdf_page = BeautifulSoup(document, "html.parser")
    assert "北京时间" in pdf_page.get_text() or "UTC" in pdf_page.get_text()
    assert "Asia/" not in pdf_page.get_text()
    assert "CN¥" not in pdf_page.get_text()
    assert _english_words(pdf_page, allowed) == []


async def test_error_pages_are_in_chinese(client, users) -> None:
    await sign_in(client, Role.TECHNICIAN)  # zh_CN
    for path, status in (("/no/such/page", 404), ("/admin/staff", 403)):
        response = await client.get(path)
        assert response.status_code == status
        # The app bar shows the test user's name, "Technician".
        assert _english_words(html(response), {"Technician"}) == [], path


@pytest.mark.parametrize("locale", ["zh_CN"])
def test_every_status_badge_is_translated(settings, locale: str) -> None:
    env = build_environment(settings)
    badge = env.get_template("_status_badge.html")
    task_state = env.get_template("workshop/_macros.html").module.task_state  # type: ignore[attr-defined]

    class Order:
        def __init__(self, status: WorkOrderStatus) -> None:
            self.status = status

    class Task:
        entries: list[object] = []  # noqa: RUF012
        rework = False
        self_checked_at = mutual_checked_at = None

        def __init__(self, status: str) -> None:
            self.status = status

    shown: dict[str, str] = {}
    with locale_as(locale):
        for status in WorkOrderStatus:
            shown[f"order:{status}"] = badge.render(wo=Order(status))
        for status in TaskStatus:
            shown[f"task:{status}"] = str(task_state(Task(status.value)))
        labels = findings.status_labels()
        for status in SupplementStatus:
            shown[f"supplement:{status}"] = labels[status.value]
    english = {
        key: words
        for key, text in shown.items()
        if (words := _english_words(BeautifulSoup(text, "html.parser"), set()))
    }
    assert english == {}
    assert len(shown) == len(WorkOrderStatus) + len(TaskStatus) + len(SupplementStatus)


async def test_the_workshop_load_counts_technicians_in_both_languages(settings) -> None:
    env = build_environment(settings)
    line = (
        "{{ ngettext('Workshop: %(num)d technician, %(booked)s h booked of %(available)s h"
        " a day; this order %(hours)s h.', 'Workshop: %(num)d technicians, %(booked)s h booked"
        " of %(available)s h a day; this order %(hours)s h.', n, booked=8, available=16,"
        " hours=2) }}"
    )
    with locale_as("en"):
        assert "1 technician," in env.from_string(line).render(n=1)
        assert "3 technicians," in env.from_string(line).render(n=3)
    with locale_as("zh_CN"):
        assert env.from_string(line).render(n=1).startswith("车间：1 名技师，")


async def test_the_audit_log_names_each_action_in_chinese(client, db, settings, users) -> None:
    order_id, _signature_id = await signed_order(db, settings, users)
    wo = await order(db, order_id)
    await sign_in(client, Role.ADVISOR)
    response = await client.get(f"/work-orders/{order_id}/audit")
    assert response.status_code == 200
    page = html(response)
    actions = {c["data-action"] for c in page.select("[data-testid=audit-action]")}
    assert {"check_in_started", "estimate.add_line", "work_order.signed"} <= actions
    # Names in the table: the test users' ("Advisor") and the order number.
    names = set(WORD.findall(f"{wo.number} {' '.join(u.title() for u in USERNAMES.values())}"))
    assert _english_words(page, names) == []
