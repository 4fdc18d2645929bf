"""The photo outbox (app/static/js/photo-outbox.js) in a real Chromium, without the app.

A fake origin, http://outbox.test, is served entirely by `page.route`: the page with the
server-rendered markup the script expects, the script itself, and an upload endpoint that
behaves like the real one (201 stored, 200 duplicate of a client_id, 4xx with
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
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlparse

import pytest
from PIL import Image, ImageChops, ImageStat
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "app" / "static" / "js" / "photo-outbox.js"
PHOTOS = Path("/work/shared/testdata/photos")
ORIGIN = "http://outbox.test"
UPLOAD_PATH = "/check-ins/12/photos"
CSRF = "csrf-token-for-tests"
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
<script src="{origin}/photo-outbox.js"></script>
</body></html>
"""


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
    # server saw it), "503", or "stored-abort" (stored, then the response was lost).
    failures: list[str] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    stored: dict[str, int] = field(default_factory=dict)
    stored_bytes: dict[str, bytes] = field(default_factory=dict)

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
        elif request.method == "GET" and path == "/photo-outbox.js":
            route.fulfill(status=200, content_type="text/javascript", body=SCRIPT.read_text())
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
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.load()
        except OSError:
            record("422")
            route.fulfill(
                status=422,
                content_type="application/json",
                body=json.dumps({"error": "This file is not a photo."}),
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


@pytest.fixture
def outbox(browser: Browser) -> Iterator[Outbox]:
    context = browser.new_context(viewport={"width": 834, "height": 1194}, has_touch=True)
    context.set_default_timeout(10_000)
    server = FakeServer()
    context.route(f"{ORIGIN}/**", server.handle)
    page = context.new_page()
    box = Outbox(context, page, server)
    box.open()
    try:
        yield box
    finally:
        context.close()


def _image(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_photos_are_downscaled_upright_jpegs_before_upload(outbox: Outbox, shot) -> None:
    outbox.take("oppo_r7plus_13mp_gps.jpg", "samsung_j327t1_orient6.jpg", "orientation_6.jpg")
    outbox.wait_stored(3)

    # Thumbs are in the order taken; the uploads may finish downscaling in another order.
    ids = outbox.page.locator("[data-photo-thumbs] img").evaluate_all(
        "(imgs) => imgs.map((img) => img.dataset.clientId)"
    )
    by_id = {u.client_id: u for u in outbox.server.uploads}
    assert sorted(by_id) == sorted(ids)
    uploads = [by_id[i] for i in ids]
    assert [u.outcome for u in uploads] == ["201", "201", "201"]
    for upload in uploads:
        assert UUID.match(upload.client_id), upload.client_id
        assert upload.fields["position"] == "front"
        assert upload.fields["damage_mark_id"] == ""
        assert upload.filename == f"{upload.client_id}.jpg"
        assert upload.csrf == CSRF
    oppo, samsung, landscape = (_image(u.data) for u in uploads)

    # 13 MP (3120×4160) → long edge 2000, a fraction of the bytes, and no GPS left.
    assert oppo.format == "JPEG"
    assert oppo.size == (1500, 2000)
    original_size = (PHOTOS / "oppo_r7plus_13mp_gps.jpg").stat().st_size
    assert len(uploads[0].data) < original_size / 3
    assert not oppo.getexif().get_ifd(0x8825)

    # Stored 2576×1932 with Orientation 6: a phone held upright arrives portrait.
    assert samsung.size == (1500, 2000)

    # Stored 1200×1800 with Orientation 6: turned upright, not upscaled, and the same
    # picture as the reference that needs no turning.
    assert landscape.size == (1800, 1200)
    with Image.open(PHOTOS / "orientation_1.jpg") as reference:
        diff = ImageChops.difference(landscape.convert("RGB"), reference.convert("RGB"))
        assert max(ImageStat.Stat(diff).mean) < 8

    thumbs = outbox.page.locator("[data-photo-thumbs] img[data-uploaded]")
    expect(thumbs).to_have_count(3)
    first_thumb = f"/photos/{outbox.server.stored[ids[0]]}/thumb"
    expect(thumbs.first).to_have_attribute("src", first_thumb)
    expect(outbox.status).to_be_hidden()
    assert outbox.count() == {"waiting": 0, "rejected": 0}
    assert sorted(outbox.page.evaluate("window.__uploaded.map((d) => d.id)")) == [1, 2, 3]
    shot(outbox.page, "photo-outbox-uploaded")


def test_failed_uploads_back_off_and_arrive_exactly_once(outbox: Outbox) -> None:
    outbox.server.failures = ["abort", "503", "abort"]
    outbox.take("orientation_1.jpg", "orientation_3.jpg")

    expect(outbox.status).to_have_text("2 photos waiting for network")
    expect(outbox.page.locator('img[data-state="waiting"]')).to_have_count(2)
    outbox.wait_stored(2, timeout_s=20)

    uploads = outbox.server.uploads
    assert [u.outcome for u in uploads] == ["abort", "503", "abort", "201", "201"]
    # The second photo's capture is itself a trigger (an early retry, or the 1 s back-off
    # if it came first); after that only the back-off timer retried: about 2 s, then 4 s.
    gaps = [b.at - a.at for a, b in pairwise(uploads[:4])]
    assert 1.4 < gaps[1] < 2.8, gaps
    assert 3.0 < gaps[2] < 5.6, gaps
    # Which photo met which failure depends on timing; each arrives exactly once.
    photos = sorted({u.client_id for u in uploads})
    assert len(photos) == 2
    for client_id in photos:
        outcomes = [u.outcome for u in outbox.server.posts_for(client_id)]
        assert outcomes[-1] == "201", outcomes
        assert outcomes.count("201") == 1, outcomes
    assert sorted(outbox.server.stored) == photos

    expect(outbox.status).to_be_hidden()
    assert outbox.count() == {"waiting": 0, "rejected": 0}
    counts = outbox.page.evaluate("window.__counts")
    assert {"waiting": 2, "rejected": 0} in counts
    assert counts[-1] == {"waiting": 0, "rejected": 0}


def test_offline_photos_survive_a_reload_and_arrive_once_online(outbox: Outbox, shot) -> None:
    outbox.server.offline = True
    outbox.take("orientation_1.jpg", "orientation_6.jpg", "orientation_8.jpg")
    expect(outbox.status).to_have_text("3 photos waiting for network")
    expect(outbox.status).to_be_visible()
    shot(outbox.page, "photo-outbox-offline")

    outbox.page.reload()
    outbox.page.wait_for_function("window.walkaroundOutbox !== undefined")
    # The previews come back from IndexedDB, and the load-time retry fails again.
    expect(outbox.page.locator('[data-photo-thumbs] img[data-state="waiting"]')).to_have_count(3)
    expect(outbox.status).to_have_text("3 photos waiting for network")
    assert outbox.count() == {"waiting": 3, "rejected": 0}
    attempts_offline = len(outbox.server.uploads)
    assert attempts_offline == 0  # aborted before the server saw anything

    outbox.server.offline = False
    outbox.page.evaluate("window.dispatchEvent(new Event('online'))")
    outbox.wait_stored(3)

    assert [u.outcome for u in outbox.server.uploads] == ["201", "201", "201"]
    assert len({u.client_id for u in outbox.server.uploads}) == 3
    expect(outbox.page.locator("[data-photo-thumbs] img[data-uploaded]")).to_have_count(3)
    expect(outbox.status).to_be_hidden()
    assert outbox.count() == {"waiting": 0, "rejected": 0}


def test_photos_from_another_page_are_sent_to_their_own_url(outbox: Outbox) -> None:
    outbox.server.offline = True
    outbox.take("orientation_1.jpg")
    expect(outbox.status).to_have_text("1 photo waiting for network")

    outbox.open("/other")  # no photo slot here
    expect(outbox.status).to_have_text("1 photo waiting for network")
    outbox.server.offline = False
    outbox.page.evaluate("window.dispatchEvent(new Event('online'))")
    outbox.wait_stored(1)
    assert [u.outcome for u in outbox.server.uploads] == ["201"]
    expect(outbox.status).to_be_hidden()


def test_a_refused_file_is_not_retried_and_can_be_removed(
    outbox: Outbox, tmp_path: Path, shot
) -> None:
    text = tmp_path / "notes.txt"
    text.write_bytes(b"not a photo at all\n")
    outbox.take(text)

    rejected = outbox.page.locator('[data-photo-thumbs] img[data-state="rejected"]')
    expect(rejected).to_have_count(1)
    assert outbox.page.evaluate("window.__toasts") == [
        {"message": "A photo was refused: This file is not a photo.", "level": "error"}
    ]
    # The browser could not decode it, so the server got the file unchanged to judge.
    (upload,) = outbox.server.uploads
    assert upload.outcome == "422"
    assert upload.data == text.read_bytes()
    assert upload.filename == f"{upload.client_id}.txt"

    # Neither a trigger nor the page load sends it again.
    outbox.page.evaluate(
        "window.dispatchEvent(new Event('online')); window.walkaroundOutbox.flush()"
    )
    outbox.page.reload()
    outbox.page.wait_for_function("window.walkaroundOutbox !== undefined")
    expect(rejected).to_have_count(1)
    outbox.page.evaluate("window.walkaroundOutbox.flush()")
    assert len(outbox.server.uploads) == 1
    assert outbox.count() == {"waiting": 0, "rejected": 1}
    expect(outbox.status).to_be_hidden()
    expect(outbox.page.locator(".photo-thumb-error")).to_have_text("This file is not a photo.")
    shot(outbox.page, "photo-outbox-rejected")

    outbox.page.locator("[data-outbox-remove]").click()
    expect(outbox.page.locator("[data-photo-thumbs] img")).to_have_count(0)
    assert outbox.count() == {"waiting": 0, "rejected": 0}


def test_concurrent_triggers_never_send_a_photo_twice(outbox: Outbox) -> None:
    outbox.server.offline = True
    outbox.take("orientation_1.jpg", "orientation_6.jpg")
    expect(outbox.status).to_have_text("2 photos waiting for network")

    outbox.server.offline = False
    outbox.page.evaluate(
        """() => Promise.all([
            window.walkaroundOutbox.flush(),
            window.walkaroundOutbox.flush(),
            (window.dispatchEvent(new Event('online')), window.walkaroundOutbox.flush()),
            window.walkaroundOutbox.flush(),
        ])"""
    )
    outbox.wait_stored(2)
    outbox.page.evaluate("window.walkaroundOutbox.flush()")
    assert [u.outcome for u in outbox.server.uploads] == ["201", "201"]
    assert len({u.client_id for u in outbox.server.uploads}) == 2


def test_a_lost_response_is_resent_and_the_server_dedupes_it(outbox: Outbox) -> None:
    outbox.server.failures = ["stored-abort"]
    outbox.take("orientation_1.jpg")
    outbox.wait_until(lambda: len(outbox.server.uploads) == 1)
    outbox.page.evaluate("window.dispatchEvent(new Event('online'))")
    outbox.page.wait_for_function("window.__uploaded.some((d) => d.duplicate)")

    assert [u.outcome for u in outbox.server.uploads] == ["stored-abort", "200"]
    assert len(outbox.server.stored) == 1
    expect(outbox.page.locator("[data-photo-thumbs] img[data-uploaded]")).to_have_count(1)
    assert outbox.count() == {"waiting": 0, "rejected": 0}


def test_a_full_slot_takes_no_more_photos(outbox: Outbox) -> None:
    outbox.server.max_photos = 3
    outbox.server.multiple = True  # the damage-mark slots let you pick several at once
    outbox.open()
    outbox.take("orientation_1.jpg")
    outbox.wait_stored(1)
    outbox.page.set_input_files(
        "[data-photo-input]",
        [
            str(PHOTOS / name)
            for name in ("orientation_3.jpg", "orientation_6.jpg", "orientation_8.jpg")
        ],
    )
    outbox.page.wait_for_function("window.__toasts.length > 0")
    outbox.wait_stored(3)
    assert outbox.page.evaluate("window.__toasts") == [
        {"message": "This slot is full.", "level": "error"}
    ]
    expect(outbox.page.locator("[data-photo-thumbs] img")).to_have_count(3)
    assert len(outbox.server.uploads) == 3


def test_a_slot_swapped_in_by_htmx_shows_its_waiting_photos(outbox: Outbox) -> None:
    outbox.server.offline = True
    outbox.take("orientation_1.jpg")
    expect(outbox.status).to_have_text("1 photo waiting for network")

    # What an htmx swap does: fresh server markup (which knows nothing of the photo),
    # then htmx:afterSettle bubbling up from the swapped element.
    fresh = SLOT.format(upload_path=UPLOAD_PATH, max_photos=6, multiple="")
    outbox.page.evaluate(
        """(html) => {
            const old = document.querySelector('[data-photo-slot]');
            old.insertAdjacentHTML('afterend', html);
            old.remove();
            document.querySelector('[data-photo-slot]')
                .dispatchEvent(new CustomEvent('htmx:afterSettle', { bubbles: true }));
        }""",
        fresh,
    )
    expect(outbox.page.locator('[data-photo-thumbs] img[data-state="waiting"]')).to_have_count(1)

    outbox.take("orientation_3.jpg")  # the new input works without being bound again
    expect(outbox.status).to_have_text("2 photos waiting for network")
    outbox.server.offline = False
    outbox.page.evaluate("window.dispatchEvent(new Event('online'))")
    outbox.wait_stored(2)
    expect(outbox.page.locator("[data-photo-thumbs] img[data-uploaded]")).to_have_count(2)
