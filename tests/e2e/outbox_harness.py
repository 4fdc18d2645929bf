"""The photo outbox's scripts (idb-store.js, photo-facts.js, photo-prepare.js,
photo-outbox.js) in a real Chromium, without the app.

A fake origin, http://outbox.test, is served entirely by `page.route`: the page with the
server-rendered markup the scripts expect, the scripts themselves, and an upload endpoint
that behaves like the real one (201 stored, 200 duplicate of a client_id, 4xx with
{"error": ...}) but can drop the connection or answer 503 on demand. Being plain http,
the origin is not a secure context, like a dealership LAN without TLS: no
crypto.randomUUID and no navigator.storage, so the fallbacks are what runs here.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.e2e.flows import PHOTOS

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "app" / "static" / "js"
SCRIPTS = ("idb-store.js", "photo-facts.js", "photo-prepare.js", "photo-outbox.js")
ORIGIN = "http://outbox.test"
UPLOAD_PATH = "/check-ins/12/photos"
CSRF = "csrf-token-for-tests"
DISK_FULL = "The server's disk is full, so the photo was not stored."
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

SLOT = """
<div class="photo-slot" data-photo-slot data-upload-url="{upload_path}" data-position="front"
     data-damage-mark="" data-max-photos="{max_photos}" data-msg-full="This slot is full.">
  <label class="btn"> <span>拍照</span>
    <input type="file" accept="image/*" capture="environment" data-photo-input {multiple}> </label>
  <div class="photo-thumbs" data-photo-thumbs></div>
</div>
"""

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>outbox</title>
<style>.photo-thumbs img {{ width: 120px; height: 90px; object-fit: cover; }}</style>
<script>
  window.__toasts = [];
  window.walkaroundToast = (message, level) => window.__toasts.push({{ message, level }});
  window.__counts = [];
  window.__uploaded = [];
  document.addEventListener("walkaround:outbox", (e) => window.__counts.push(e.detail));
  document.addEventListener("walkaround:photo-uploaded", (e) => window.__uploaded.push(e.detail));
</script>
</head>
<body hx-headers='{{"x-csrftoken": "{csrf}"}}'>
{slot}
<div data-outbox-status aria-live="polite" data-msg-one="1 photo waiting for network"
     data-msg-many="{{n}} photos waiting for network" data-msg-sending="Sending {{n}} photos…"
     data-msg-rejected="A photo was refused: {{error}}" hidden></div>
<script src="{origin}/idb-store.js"></script>
<script src="{origin}/photo-facts.js"></script>
<script src="{origin}/photo-prepare.js"></script>
<script src="{origin}/photo-outbox.js"></script>
</body></html>
"""


def pillow_judge(data: bytes) -> tuple[int, str] | None:
    """Refuse what Pillow cannot decode, like the real server (in fewer words)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
    except OSError:
        return 422, "This file is not a photo."
    return None


@dataclass
class Upload:
    fields: dict[str, str]
    filename: str
    data: bytes
    csrf: str | None
    outcome: str
    at: float

    @property
    def client_id(self) -> str:
        return self.fields["client_id"]


@dataclass
class FakeServer:
    """The upload endpoint, plus the page and the script, for one browser context."""

    max_photos: int = 6
    multiple: bool = False
    offline: bool = False
    # What to do with the next uploads, first first: "abort" (connection lost before the
    # server saw it), "503", "507" (the server's disk is full, with its message), or
    # "stored-abort" (stored, then the response was lost).
    failures: list[str] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    stored: dict[str, int] = field(default_factory=dict)
    stored_bytes: dict[str, bytes] = field(default_factory=dict)
    # (status, message) to refuse an upload with, or None to store it.
    judge: Callable[[bytes], tuple[int, str] | None] = field(default=pillow_judge)
    # Served at /files/<name> besides the corpus, for the page to fetch.
    files: dict[str, bytes] = field(default_factory=dict)

    def handle(self, route: Route) -> None:
        request = route.request
        path = urlparse(request.url).path
        if request.method == "GET" and path in ("/", "/other"):
            slot = (
                ""
                if path == "/other"
                else SLOT.format(
                    upload_path=UPLOAD_PATH,
                    max_photos=self.max_photos,
                    multiple="multiple" if self.multiple else "",
                )
            )
            html = PAGE.format(csrf=CSRF, slot=slot, origin=ORIGIN)
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        elif request.method == "GET" and path.lstrip("/") in SCRIPTS:
            script = JS / path.lstrip("/")
            if not script.exists():  # an older checkout, for proving a test fails without it
                route.fulfill(status=404, body="not found")
                return
            route.fulfill(status=200, content_type="text/javascript", body=script.read_text())
        elif request.method == "GET" and path.startswith("/files/"):
            name = path.removeprefix("/files/")
            data = self.files[name] if name in self.files else (PHOTOS / name).read_bytes()
            route.fulfill(status=200, content_type="application/octet-stream", body=data)
        elif request.method == "GET" and path.startswith("/photos/"):
            buf = io.BytesIO()
            Image.new("RGB", (8, 6), "grey").save(buf, "JPEG")
            route.fulfill(status=200, content_type="image/jpeg", body=buf.getvalue())
        elif request.method == "POST" and path == UPLOAD_PATH:
            self._upload(route)
        else:
            route.fulfill(status=404, body="not found")

    def _upload(self, route: Route) -> None:
        request = route.request
        if self.offline:
            route.abort("internetdisconnected")
            return
        fields, filename, data = parse_multipart(
            request.headers["content-type"], request.post_data_buffer or b""
        )
        failure = self.failures.pop(0) if self.failures else None

        def record(outcome: str) -> None:
            self.uploads.append(
                Upload(
                    fields,
                    filename,
                    data,
                    request.headers.get("x-csrftoken"),
                    outcome,
                    time.monotonic(),
                )
            )

        if failure == "abort":
            record("abort")
            route.abort("connectionreset")
            return
        if failure == "503":
            record("503")
            route.fulfill(status=503, content_type="text/plain", body="restarting")
            return
        if failure == "507":
            record("507")
            route.fulfill(
                status=507, content_type="application/json", body=json.dumps({"error": DISK_FULL})
            )
            return
        refusal = self.judge(data)
        if refusal is not None:
            status, error = refusal
            record(str(status))
            route.fulfill(
                status=status, content_type="application/json", body=json.dumps({"error": error})
            )
            return
        client_id = fields["client_id"]
        duplicate = client_id in self.stored
        if not duplicate:
            self.stored[client_id] = len(self.stored) + 1
            self.stored_bytes[client_id] = data
        if failure == "stored-abort":
            record("stored-abort")
            route.abort("connectionreset")
            return
        record("200" if duplicate else "201")
        photo_id = self.stored[client_id]
        route.fulfill(
            status=200 if duplicate else 201,
            content_type="application/json",
            body=json.dumps(
                {
                    "id": photo_id,
                    "client_id": client_id,
                    "thumb_url": f"/photos/{photo_id}/thumb",
                    "display_url": f"/photos/{photo_id}/display",
                    "duplicate": duplicate,
                }
            ),
        )

    def posts_for(self, client_id: str) -> list[Upload]:
        return [u for u in self.uploads if u.client_id == client_id]


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], str, bytes]:
    """Text fields, and the filename and bytes of the one file part."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    assert match, content_type
    boundary = b"--" + match.group(1).encode()
    fields: dict[str, str] = {}
    filename, data = "", b""
    for part in body.split(boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part[2:].partition(b"\r\n\r\n")
        content = content[:-2]  # the CRLF before the next boundary
        disposition = head.decode()
        name = re.search(r'name="([^"]*)"', disposition).group(1)
        file_match = re.search(r'filename="([^"]*)"', disposition)
        if file_match:
            filename, data = file_match.group(1), content
        else:
            fields[name] = content.decode()
    return fields, filename, data


@dataclass
class Outbox:
    context: BrowserContext
    page: Page
    server: FakeServer

    def open(self, path: str = "/") -> None:
        self.page.goto(ORIGIN + path)
        self.page.wait_for_function("window.walkaroundOutbox !== undefined")

    def take(self, *names: str | Path) -> None:
        """One capture per file, as the camera does (the input is not `multiple`)."""
        for name in names:
            path = name if isinstance(name, Path) else PHOTOS / name
            before = self.page.locator("[data-photo-thumbs] img").count()
            self.page.set_input_files("[data-photo-input]", str(path))
            expect(self.page.locator("[data-photo-thumbs] img")).to_have_count(before + 1)

    def count(self) -> dict[str, int]:
        return self.page.evaluate("window.walkaroundOutbox.count()")

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 15.0) -> None:
        # Waiting through the page lets Playwright run the route handlers meanwhile.
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out; uploads: {[u.outcome for u in self.server.uploads]}"
                )
            self.page.wait_for_timeout(50)

    def wait_stored(self, n: int, timeout_s: float = 15.0) -> None:
        self.wait_until(lambda: len(self.server.stored) >= n, timeout_s)
        self.page.wait_for_function(f"window.__uploaded.length >= {n}")

    @property
    def status(self):
        return self.page.locator("[data-outbox-status]")


@contextmanager
def outbox_page(browser: Browser, server: FakeServer | None = None) -> Iterator[Outbox]:
    """A tablet-sized page on the fake origin with the outbox loaded."""
    context = browser.new_context(viewport={"width": 834, "height": 1194}, has_touch=True)
    context.set_default_timeout(10_000)
    server = server or FakeServer()
    context.route(f"{ORIGIN}/**", server.handle)
    page = context.new_page()
    box = Outbox(context, page, server)
    box.open()
    try:
        yield box
    finally:
        context.close()
