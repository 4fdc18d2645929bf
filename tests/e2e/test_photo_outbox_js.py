"""The photo outbox (app/static/js/photo-outbox.js) in a real Chromium, without the app:
capture, storage in IndexedDB, upload, retries and refusals, on the fake origin of
tests/e2e/outbox_harness.py. What the tablet makes of each photo before it goes in the
outbox is tested in test_photo_prepare_js.py.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat
from playwright.sync_api import Browser, expect

from tests.e2e.outbox_harness import (
    CSRF,
    DISK_FULL,
    PHOTOS,
    SLOT,
    UPLOAD_PATH,
    UUID,
    Outbox,
    outbox_page,
)


@pytest.fixture
def outbox(browser: Browser) -> Iterator[Outbox]:
    with outbox_page(browser) as box:
        yield box


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

    # Stored 1200×1800 with Orientation 6, already within the upload size: sent as taken
    # (a re-encode would only be larger), and the server's turn makes it the reference.
    assert uploads[2].data == (PHOTOS / "orientation_6.jpg").read_bytes()
    upright = ImageOps.exif_transpose(landscape)
    assert upright.size == (1800, 1200)
    with Image.open(PHOTOS / "orientation_1.jpg") as reference:
        diff = ImageChops.difference(upright.convert("RGB"), reference.convert("RGB"))
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


def test_a_full_disk_on_the_server_keeps_the_photo_waiting_with_the_servers_message(
    outbox: Outbox,
) -> None:
    outbox.server.failures = ["507", "507"]
    outbox.take("orientation_1.jpg")

    expect(outbox.status).to_contain_text(DISK_FULL)
    expect(outbox.status).to_contain_text("1 photo waiting for network")
    expect(outbox.page.locator('img[data-state="waiting"]')).to_have_count(1)
    outbox.wait_stored(1, timeout_s=20)
    assert [u.outcome for u in outbox.server.uploads] == ["507", "507", "201"]
    expect(outbox.status).to_be_hidden()
    assert outbox.count() == {"waiting": 0, "rejected": 0}


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
