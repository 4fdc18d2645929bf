from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlalchemy import select

from app import i18n
from app.models import Role, StaffUser
from tests.conftest import csrf_token, html, sign_in

pytestmark = pytest.mark.http_layer

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "app" / "translations"


def _source_messages() -> set[str]:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue(locale: str):  # type: ignore[no-untyped-def]
    with (CATALOGUES / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_ui_string_has_a_translation(locale: str) -> None:
    catalogue = _catalogue(locale)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and m.string and (isinstance(m.string, str) or all(m.string)) and not m.fuzzy
    }
    missing = sorted(_source_messages() - translated)
    assert missing == [], f"untranslated in {locale}: {missing} (run `make messages`)"


def test_the_source_really_has_strings_to_translate() -> None:
    messages = _source_messages()
    assert "Lane board" in messages
    assert "Wrong username or password." in messages
    assert len(messages) > 50


def test_chinese_translations_are_chinese() -> None:
    catalogue = _catalogue("zh_CN")
    assert catalogue.get("Lane board").string == "接车看板"
    latin_only = [
        m.id
        for m in catalogue
        if m.id
        and isinstance(m.string, str)
        and m.string.isascii()
        and m.string not in {"Walkaround", "ABS", "PDF"}
    ]
    assert latin_only == []


def test_money_and_dates_follow_the_locale() -> None:
    fmt = i18n.Formatter("Asia/Shanghai", "CNY")
    moment = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    i18n.set_locale("zh_CN")
    assert fmt.money(Decimal("1234.5")) == "¥1,234.50"
    assert fmt.time(moment) == "09:30"
    assert fmt.date(moment, "long") == "2026年11月22日"
    i18n.set_locale("en")
    assert fmt.money(Decimal("1234.5")) == "¥1,234.50"  # not "CN¥"
    assert fmt.time(moment) == "9:30\u202fAM"
    assert fmt.date(moment, "long") == "November 22, 2026"


def test_accept_language_picks_a_supported_locale() -> None:
    assert i18n.negotiate("en-US,en;q=0.9") == "en"
    assert i18n.negotiate("zh-TW,zh;q=0.9") == "zh_CN"
    assert i18n.negotiate("fr-FR") is None


async def test_the_language_switch_is_stored_on_the_user(client, users, db) -> None:
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get("/lane"))
    assert page.html["lang"] == "zh-CN"
    assert [b.get_text(strip=True) for b in page.select(".lang-switch button")] == [
        "中文", "English"
    ]  # fmt: skip
    token = await csrf_token(client)
    response = await client.post(
        "/language", data={"locale": "en", "next": "/lane", "_csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/lane"
    page = html(await client.get("/lane"))
    assert page.html["lang"] == "en"
    assert page.select_one("h1").get_text(strip=True) == "Lane board"
    locale = await db.scalar(select(StaffUser.locale).where(StaffUser.username == "advisor"))
    assert locale == "en"


async def test_the_sign_in_page_follows_the_device_language(client) -> None:
    page = html(await client.get("/sign-in", headers={"Accept-Language": "en"}))
    assert page.select_one("h2").get_text(strip=True) == "Sign in"
    token = page.select_one("input[name=_csrf_token]")["value"]
    await client.post(
        "/language", data={"locale": "zh_CN", "next": "/sign-in", "_csrf_token": token}
    )
    page = html(await client.get("/sign-in", headers={"Accept-Language": "en"}))
    assert page.select_one("h2").get_text(strip=True) == "登录"
