"""What the tablet uploads for a photo (app/static/js/photo-facts.js and photo-prepare.js),
in a real Chromium.

The rule: what the tablet makes of a photo must be at least as right as what the server
makes of the original: upright the same way, a damaged file refused in the server's own
words (never turned into a valid blank picture), and never more bytes than the original.
Every file of the corpus (MANIFEST.md) is checked against the real pipeline, first through
the outbox on the fake origin, then a few on the real check-in page.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, ImageOps
from playwright.sync_api import Browser, Route, expect

from app.services.photos.pipeline import (
    DISPLAY_LONG_EDGE,
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    process_photo,
)
from tests.e2e.flows import (
    PHOTOS,
    client_ids_on_page,
    photo_rows,
    snap,
    start_check_in,
    take_photo,
)
from tests.e2e.outbox_harness import FakeServer, Outbox, outbox_page, parse_multipart
from tests.e2e.photo_corpus import (
    corpus_files,
    manifest,
    pipeline_judge,
    problems_with,
    server_makes,
)

PREPARE = """async (name) => {
  const blob = await (await fetch("/files/" + name)).blob();
  const result = await window.walkaroundPhotoPrepare.prepare(new File([blob], name));
  const bytes = new Uint8Array(await result.blob.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return { reason: result.reason, data: btoa(text) };
}"""

INSPECT = """async (name) => {
  const bytes = new Uint8Array(await (await fetch("/files/" + name)).arrayBuffer());
  return window.walkaroundPhotoFacts.inspect(bytes);
}"""

PROBE = """async (name) => {
  const P = window.walkaroundPhotoPrepare;
  const bytes = new Uint8Array(await (await fetch("/files/" + name)).arrayBuffer());
  const facts = window.walkaroundPhotoFacts.inspect(bytes);
  const probe = P.probeBytes(bytes, facts);
  const bitmap = await createImageBitmap(new Blob([probe]));  // it must decode here too
  return { orientation: facts.orientation, probe: Array.from(probe),
           corners: P.UPRIGHT_CORNERS, decoded: [bitmap.width, bitmap.height] };
}"""

PROBE_COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
DAMAGED_ZH = "照片已损坏或不完整，请重新拍摄。"
ORIENTATIONS = ["orientation_0_invalid.jpg", *(f"orientation_{n}.jpg" for n in range(1, 9))]


@pytest.fixture
def outbox(browser: Browser) -> Iterator[Outbox]:
    with outbox_page(browser, FakeServer(max_photos=100, judge=pipeline_judge)) as box:
        yield box


def _prepare(outbox: Outbox, name: str) -> tuple[str, bytes]:
    result = outbox.page.evaluate(PREPARE, name)
    return result["reason"], base64.b64decode(result["data"])


def _table(rows: list[tuple[str, int, int, str]]) -> None:
    width = max(len(row[0]) for row in rows)
    print(f"\n{'file':<{width}} {'original':>10} {'uploaded':>10} {'ratio':>6}  server stores")
    for name, original, uploaded, stored in rows:
        ratio = uploaded / original
        print(f"{name:<{width}} {original:>10,} {uploaded:>10,} {ratio:>6.1%}  {stored}")


def _stored(data: bytes) -> str:
    made = server_makes(data)
    return f"refused {made.status}" if made.error else f"{made.width}×{made.height}"


# --- the whole corpus, through the outbox ---------------------------------------------------


def test_every_corpus_photo_reaches_the_server_as_right_as_its_original(outbox: Outbox) -> None:
    expected = manifest()
    files = corpus_files()
    assert sorted(expected) == [p.name for p in files], "MANIFEST and the corpus disagree"
    rows, problems = [], []
    for path in files:
        outbox.take(path)
        client_id = outbox.page.locator("[data-photo-thumbs] img").last.get_attribute(
            "data-client-id"
        )
        outbox.wait_until(lambda cid=client_id: bool(outbox.server.posts_for(cid)), 60)
        (upload,) = outbox.server.posts_for(client_id)
        original = path.read_bytes()
        mode, upright = expected[path.name]
        found = problems_with(original, upload.data, upright)
        made = server_makes(upload.data)
        if "truncated" in mode and not made.error:
            found.append("a truncated file was stored")
        if made.error:
            # The tablet says why, in the server's words, and keeps the photo to remove.
            thumb = f'img[data-client-id="{client_id}"]'
            wrap = outbox.page.locator(f"[data-outbox-thumb]:has({thumb})")
            expect(wrap.locator("img")).to_have_attribute("data-state", "rejected")
            expect(wrap.locator(".photo-thumb-error")).to_have_text(made.error)
        problems += [f"{path.name}: {p}" for p in found]
        rows.append((path.name, len(original), len(upload.data), _stored(upload.data)))
    _table(rows)
    assert not problems, "\n".join(problems)
    toasts = outbox.page.evaluate("window.__toasts.map((t) => t.message)")
    assert sum(DAMAGED_ZH in t for t in toasts) == 2, toasts


# --- photos larger than the upload size: every orientation, and what must go as taken -------


def _save(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


XMP_ORIENTATION_6 = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>'
)


@pytest.fixture(scope="module")
def big_files() -> dict[str, tuple[bytes, str | set[str]]]:
    """Name -> (bytes, the reason prepare() gives in Chromium), all over 2000 px."""
    files: dict[str, tuple[bytes, str | set[str]]] = {}
    for name in ORIENTATIONS:
        with Image.open(PHOTOS / name) as im:
            big = im.resize((im.width * 3 // 2, im.height * 3 // 2), Image.Resampling.LANCZOS)
            data = _save(big, "JPEG", quality=92, exif=im.info["exif"])
        files[name.replace(".jpg", "_big.jpg")] = (data, "shrunk")
    with Image.open(PHOTOS / "orientation_6.jpg") as im:
        big = im.resize((1800, 2700), Image.Resampling.LANCZOS)
        xmp_only = _save(big, "JPEG", quality=92, xmp=XMP_ORIENTATION_6)
        files["xmp_orientation_6_big.jpg"] = (xmp_only, "orientation-xmp")
        png = _save(big, "PNG", exif=im.getexif())
        files["orientation_6_big.png"] = (png, "orientation-not-applied")
    with Image.open(PHOTOS / "iphonex_exif_orient6_gps.webp") as im:
        big = im.resize((2560, 1920), Image.Resampling.LANCZOS)
        webp = _save(big, "WEBP", quality=90, exif=im.info["exif"])
    # Chromium does not apply a WebP's EXIF orientation; should it start to, shrinking is
    # right too, and the comparison with the server still decides.
    files["iphonex_orient6_big.webp"] = (webp, {"orientation-not-applied", "shrunk"})
    files["iphonex_orient6_big_truncated.webp"] = (webp[: len(webp) * 2 // 3], "incomplete")
    with Image.open(PHOTOS / "cmyk_swop_icc_multisegment.jpg") as im:
        big = im.resize((2100, 2100), Image.Resampling.LANCZOS)
        cmyk = _save(big, "JPEG", quality=90, icc_profile=im.info["icc_profile"])
    files["cmyk_big.jpg"] = (cmyk, "cmyk")
    with Image.open(PHOTOS / "canon_eos7d_adobergb.jpg") as im:
        big = im.resize((1500, 2250), Image.Resampling.LANCZOS)
        adobe = _save(big, "JPEG", quality=92, icc_profile=im.info["icc_profile"])
    files["canon_adobergb_big.jpg"] = (adobe, "shrunk")  # the browser converts to sRGB too
    # Over the server's 50 MP: refused there, so not made acceptable here.
    flat = _save(Image.new("L", (8200, 6100), 128), "JPEG", quality=50)
    files["flat_50mp.jpg"] = (flat, "too-many-pixels")
    with Image.open(PHOTOS / "rgba_alpha.png") as im:
        alpha = _save(im.resize((2430, 2250), Image.Resampling.LANCZOS), "PNG")
    files["rgba_alpha_big.png"] = (alpha, {"shrunk", "not-smaller"})
    files["rgba_alpha_big_truncated.png"] = (alpha[: len(alpha) * 2 // 3], "incomplete")
    return files


def test_a_large_photo_is_shrunk_only_when_the_result_is_upright_and_complete(
    outbox: Outbox, big_files: dict[str, tuple[bytes, str | set[str]]]
) -> None:
    outbox.server.files.update({name: data for name, (data, _) in big_files.items()})
    rows, problems = [], []
    for name, (original, reason_wanted) in big_files.items():
        reason, uploaded = _prepare(outbox, name)
        wanted = {reason_wanted} if isinstance(reason_wanted, str) else reason_wanted
        if reason not in wanted:
            problems.append(f"{name}: {reason}, expected {' or '.join(sorted(wanted))}")
        if reason != "shrunk" and uploaded != original:
            problems.append(f"{name}: not the file as taken")
        problems += [f"{name}: {p}" for p in problems_with(original, uploaded, None)]
        rows.append((f"{name} ({reason})", len(original), len(uploaded), _stored(uploaded)))
    _table(rows)
    assert not problems, "\n".join(problems)
    # The server turns by an XMP orientation too: the tablet must not shrink it unturned.
    assert _stored(big_files["xmp_orientation_6_big.jpg"][0]) == "2000×1333"


# --- the pure parts -------------------------------------------------------------------------


def test_inspect_reads_the_format_size_orientation_and_completeness_pillow_reads(
    outbox: Outbox,
) -> None:
    expected = manifest()
    for path in corpus_files():
        facts = outbox.page.evaluate(INSPECT, path.name)
        if path.suffix == ".heic":
            assert facts["format"] is None, path.name
            continue
        with Image.open(path) as im:
            fmt = {"MPO": "jpeg"}.get(im.format or "", (im.format or "").lower())
            orientation = im.getexif().get(0x0112)
            size, bands = im.size, len(im.getbands())
        assert facts["format"] == fmt, path.name
        assert (facts["width"], facts["height"]) == size, path.name
        if fmt == "jpeg":
            assert facts["components"] == bands, path.name
        exif, xmp = facts["orientation"], facts["xmpOrientation"]
        assert (exif if exif is not None else xmp) == orientation, path.name
        assert facts["complete"] == ("truncated" not in expected[path.name][0]), path.name


DECISIONS = [
    ({}, True, "shrink"),
    ({"format": None}, True, "format"),
    ({"complete": False}, True, "incomplete"),
    ({"width": 2000, "height": 1500}, True, "fits"),
    ({"width": 0}, True, "size-unknown"),
    ({"orientation": 6}, True, "shrink"),
    ({"orientation": 6}, False, "orientation-not-applied"),
    ({"orientation": 2}, False, "orientation-not-applied"),
    ({"orientation": 1}, False, "shrink"),
    ({"orientation": 0}, False, "shrink"),  # not a valid value: as stored, as in Pillow
    ({"orientation": 9}, False, "shrink"),
    ({"orientation": None, "xmpOrientation": 6}, True, "orientation-xmp"),
    ({"orientation": 1, "xmpOrientation": 6}, True, "shrink"),  # EXIF wins, as in Pillow
    ({"format": "png", "orientation": 3}, True, "orientation-not-applied"),
    ({"format": "png", "exifRaw": True}, True, "orientation-unknown"),
    ({"components": 4}, True, "cmyk"),
    ({"width": 8200, "height": 6100}, True, "too-many-pixels"),
    ({"bytes": 25 * 1024 * 1024 + 1}, True, "too-large"),
    ({"bytes": 25 * 1024 * 1024, "format": None}, True, "format"),
    ({"components": 1}, True, "shrink"),
]


def test_the_script_knows_the_servers_size_and_limits(outbox: Outbox) -> None:
    limits = outbox.page.evaluate("window.walkaroundPhotoFacts")
    assert limits["MAX_EDGE"] == DISPLAY_LONG_EDGE
    assert limits["MAX_BYTES"] == MAX_UPLOAD_BYTES
    assert limits["MAX_PIXELS"] == MAX_PIXELS


@pytest.mark.parametrize(("change", "browser_turns", "reason"), DECISIONS)
def test_decide_shrinks_only_what_it_can_make_as_right_as_the_server(
    outbox: Outbox, change: dict[str, Any], browser_turns: bool, reason: str
) -> None:
    facts = {
        "format": "jpeg", "bytes": 3_000_000, "width": 4000, "height": 3000, "orientation": None,
        "components": 3, "xmpOrientation": None, "exifRaw": False, "exif": [2, 100],
        "complete": True,
        **change,
    }  # fmt: skip
    plan = outbox.page.evaluate(
        "([f, t]) => window.walkaroundPhotoFacts.decide(f, t)", [facts, browser_turns]
    )
    assert plan == {"shrink": reason == "shrink", "reason": reason}


def _nearest(colour: Any) -> int:
    def distance(i: int) -> int:
        return sum(abs(a - b) for a, b in zip(colour, PROBE_COLOURS[i], strict=True))

    return min(range(4), key=distance)


@pytest.mark.parametrize("name", [*ORIENTATIONS, "iphonex_exif_orient6_gps.webp"])
def test_the_orientation_probe_expects_what_the_server_does(outbox: Outbox, name: str) -> None:
    """The probe carries the photo's own EXIF; turned by Pillow as the server turns the
    photo, its corners must be where the script expects them."""
    result = outbox.page.evaluate(PROBE, name)
    with Image.open(io.BytesIO(bytes(result["probe"]))) as probe:
        upright = ImageOps.exif_transpose(probe).convert("RGB")
    seen = [_nearest(upright.getpixel(xy)) for xy in ((4, 4), (11, 4), (4, 11), (11, 11))]
    orientation = result["orientation"]
    expected = result["corners"].get(str(orientation), [0, 1, 2, 3])
    assert seen == expected, (name, orientation)
    assert result["decoded"] == [16, 16]


# --- on the real check-in page --------------------------------------------------------------


def test_the_check_in_page_uploads_upright_photos_and_refuses_a_damaged_one(
    new_context, shot, db_path
) -> None:  # type: ignore[no-untyped-def]
    page = new_context("advisor").new_page()
    check_in_id, _ = start_check_in(page)
    page.goto(f"/check-ins/{check_in_id}/walkaround")
    sent: dict[str, bytes] = {}

    def record(route: Route) -> None:
        request = route.request
        fields, _, data = parse_multipart(
            request.headers["content-type"], request.post_data_buffer or b""
        )
        sent[fields["position"]] = data
        route.continue_()

    page.route(re.compile(r"/check-ins/\d+/photos$"), record)
    taken = {
        "front": "iphonex_exif_orient6_gps.webp",
        "right": "pixel6_ultrahdr_truncated.jpg",
        "rear": "oppo_r7plus_13mp_gps.jpg",
        "left": "orientation_6.jpg",
    }
    for slot, name in taken.items():
        take_photo(page, slot, name)
    uploaded = page.locator("[data-photo-slot] img[data-uploaded]")
    expect(uploaded).to_have_count(3, timeout=30_000)
    right = page.get_by_test_id("slot-right")
    expect(right.locator("img[data-state=rejected]")).to_have_count(1)
    expect(right.locator(".photo-thumb-error")).to_have_text(DAMAGED_ZH)
    snap(shot, page, "photo-prepare-check-in")

    rows = photo_rows(db_path, check_in_id)
    assert sorted(r[1] for r in rows) == ["front", "left", "rear"]
    assert len(client_ids_on_page(page)) == 4  # the refused one stays until removed
    for slot, name in taken.items():
        original = (PHOTOS / name).read_bytes()
        assert len(sent[slot]) <= len(original), slot
        if slot == "right":
            assert sent[slot] == original  # as taken, for the server to judge
            continue
        thumb = page.get_by_test_id(f"slot-{slot}").locator("img[data-uploaded]")
        photo_id = thumb.get_attribute("data-photo-id")
        answer = page.request.get(f"/photos/{photo_id}/display")
        assert answer.ok
        with Image.open(io.BytesIO(answer.body())) as stored:
            made = process_photo(original)
            assert stored.size == (made.width, made.height), slot
    # The 13 MP photo was shrunk on the tablet, by the script this page loads.
    assert len(sent["rear"]) < len((PHOTOS / taken["rear"]).read_bytes()) / 2
    assert page.evaluate("typeof window.walkaroundPhotoPrepare.prepare") == "function"
