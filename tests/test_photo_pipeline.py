"""The photo pipeline against 25 real camera files (see MANIFEST.md next to them) and crafted bombs.

The corpus lives outside the repository: ../shared/testdata/photos from the repo's parent, or
wherever WALKAROUND_TESTDATA points.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import sys
import time
import warnings
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageFile, ImageStat
from PIL.JpegImagePlugin import JpegImageFile

from app.errors import DomainError, InvalidInput
from app.services.photos import pipeline as photo_pipeline
from app.services.photos.pipeline import (
    DISPLAY_LONG_EDGE,
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    THUMB_LONG_EDGE,
    ProcessedPhoto,
    TooLarge,
    process_photo,
)

REPO = Path(__file__).resolve().parents[1]
TESTDATA = Path(
    os.environ.get("WALKAROUND_TESTDATA")
    or Path(__file__).resolve().parents[2] / "shared" / "testdata" / "photos"
)
T = Image.Transpose


@dataclass(frozen=True)
class Expected:
    upright: tuple[int, int] = (0, 0)  # full-size pixels once turned upright
    turn: Image.Transpose | None = None  # what the plain decode needs to be upright
    source_format: str = "JPEG"
    refused_with: type[DomainError] | None = None


# From MANIFEST.md. A HEIC needs no turn: pillow-heif applies irot itself.
EXPECTED = {
    "orientation_0_invalid.jpg": Expected((1800, 1200)),
    "orientation_1.jpg": Expected((1800, 1200)),
    "orientation_2.jpg": Expected((1800, 1200), T.FLIP_LEFT_RIGHT),
    "orientation_3.jpg": Expected((1800, 1200), T.ROTATE_180),
    "orientation_4.jpg": Expected((1800, 1200), T.FLIP_TOP_BOTTOM),
    "orientation_5.jpg": Expected((1800, 1200), T.TRANSPOSE),
    "orientation_6.jpg": Expected((1800, 1200), T.ROTATE_270),
    "orientation_7.jpg": Expected((1800, 1200), T.TRANSVERSE),
    "orientation_8.jpg": Expected((1800, 1200), T.ROTATE_90),
    "iphone5_orient3_gps.jpg": Expected((3264, 2448), T.ROTATE_180),
    "samsung_j327t1_orient6.jpg": Expected((1932, 2576), T.ROTATE_270),
    "leica_t_orient8_16mp_nan_gps.jpg": Expected((3264, 4928), T.ROTATE_90),
    "oppo_r7plus_13mp_gps.jpg": Expected((3120, 4160)),
    "pixel6_ultrahdr_gps.jpg": Expected((1512, 2688)),
    "iphone8plus_irot_orient6_p3.heic": Expected((3024, 4032), source_format="HEIF"),
    "iphone13pro_depth_gps_p3.heic": Expected((4032, 3024), source_format="HEIF"),
    "galaxy_s24ultra_200mp.heic": Expected(refused_with=TooLarge),
    "iphonex_exif_orient6_gps.webp": Expected((240, 320), T.ROTATE_270, source_format="WEBP"),
    "panasonic_lc70_progressive.jpg": Expected((1280, 960)),
    "cmyk_swop_icc_multisegment.jpg": Expected((140, 140)),
    "canon_eos7d_adobergb.jpg": Expected((600, 900)),
    "rgba_alpha.png": Expected((162, 150), source_format="PNG"),
    "nintendo3ds_stereo.mpo": Expected((640, 480)),
    "pixel6_ultrahdr_truncated.jpg": Expected(refused_with=InvalidInput),
    "xperia_z5c_4k_truncated.jpg": Expected(refused_with=InvalidInput),
}
ACCEPTED = [name for name, e in EXPECTED.items() if e.refused_with is None]
REFUSED = [name for name, e in EXPECTED.items() if e.refused_with is not None]
# Every GPS position in the corpus, as it would appear in a message that leaked it.
COORDINATES = ["47.6", "122.3", "60.2", "8.77", "30.6", "119.7", "44.8", "34.9", "37.3", "122.0"]


@cache
def processed(name: str) -> ProcessedPhoto:
    return process_photo((TESTDATA / name).read_bytes())


def opened(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image


def mean_difference(a: Image.Image, b: Image.Image) -> list[float]:
    return ImageStat.Stat(ImageChops.difference(a, b)).mean


def reference(name: str, size: tuple[int, int]) -> Image.Image:
    """The source decoded the plain way, turned upright by the MANIFEST's transform."""
    with Image.open(TESTDATA / name) as raw:
        raw.load()
        if raw.mode == "RGBA":
            white = Image.new("RGBA", raw.size, "white")
            upright = Image.alpha_composite(white, raw).convert("RGB")
        else:
            upright = raw.convert("RGB")
    if (turn := EXPECTED[name].turn) is not None:  # FLIP_LEFT_RIGHT is 0
        upright = upright.transpose(turn)
    return upright.resize(size, Image.Resampling.LANCZOS)


def through_embedded_profile(name: str, size: tuple[int, int]) -> Image.Image:
    with Image.open(TESTDATA / name) as raw:
        raw.load()
        profile = ImageCms.ImageCmsProfile(io.BytesIO(raw.info["icc_profile"]))
        srgb = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(raw, profile, srgb, outputMode="RGB")
    assert converted is not None
    return converted.resize(size, Image.Resampling.LANCZOS)


def jpeg_segments(jpeg: bytes) -> list[int]:
    """The markers of every segment before the image data (APPn, COM, DQT, SOF...)."""
    assert jpeg[:2] == b"\xff\xd8"
    markers, at = [], 2
    while jpeg[at] == 0xFF and jpeg[at + 1] != 0xDA:
        markers.append(jpeg[at + 1])
        at += 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")
    return markers


def png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of any size: all-zero rows compress to almost nothing."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    row = bytes(1 + (width + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def peak_memory_growth_mb(path: Path) -> float:
    """Run the pipeline on `path` in a fresh interpreter; its peak RSS growth in MB."""
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from app.errors import DomainError\n"
        "from app.services.photos.pipeline import process_photo\n"
        "data = Path(sys.argv[1]).read_bytes()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    process_photo(data)\n"
        "except DomainError:\n"
        "    pass\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    env = {**os.environ, "WALKAROUND_ENV": "test"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    growth = int(done.stdout.strip())
    return growth / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS


def test_the_corpus_is_there_with_exactly_the_files_the_manifest_describes() -> None:
    assert TESTDATA.is_dir(), f"no photo corpus at {TESTDATA}; set WALKAROUND_TESTDATA"
    found = {p.name for p in TESTDATA.iterdir() if p.name != "MANIFEST.md"}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("name", ACCEPTED)
def test_an_accepted_photo_becomes_an_upright_jpeg_no_larger_than_the_display_size(
    name: str,
) -> None:
    photo = processed(name)
    expected = EXPECTED[name]
    display, thumb = opened(photo.display_jpeg), opened(photo.thumb_jpeg)

    assert (display.format, display.mode) == ("JPEG", "RGB")
    assert (thumb.format, thumb.mode) == ("JPEG", "RGB")
    assert getattr(display, "n_frames", 1) == 1
    assert photo.source_format == expected.source_format
    assert display.size == (photo.width, photo.height)
    assert thumb.size == (photo.thumb_width, photo.thumb_height)
    long_edge = max(expected.upright)
    assert max(display.size) == min(long_edge, DISPLAY_LONG_EDGE)  # shrunk, never enlarged
    assert max(thumb.size) == min(long_edge, THUMB_LONG_EDGE)
    ratio = expected.upright[0] / expected.upright[1]
    assert display.width / display.height == pytest.approx(ratio, rel=0.01)
    assert thumb.width / thumb.height == pytest.approx(ratio, rel=0.02)


@pytest.mark.parametrize("name", ACCEPTED)
def test_an_accepted_photo_looks_like_its_source_turned_upright_exactly_once(name: str) -> None:
    display = opened(processed(name).display_jpeg)
    expected = reference(name, display.size)
    small = (64, 64)
    difference = mean_difference(
        display.convert("L").resize(small), expected.convert("L").resize(small)
    )
    # A wrong turn or mirror scores 60+; colour conversion and JPEG noise stay under 6.
    assert difference[0] < 8


@pytest.mark.parametrize("name", ACCEPTED)
@pytest.mark.parametrize("output", ["display_jpeg", "thumb_jpeg"])
def test_an_output_carries_no_metadata_at_all(name: str, output: str) -> None:
    jpeg = getattr(processed(name), output)
    image = opened(jpeg)

    assert len(image.getexif()) == 0
    assert image.getexif().get_ifd(0x8825) == {}  # no GPS
    assert not {"exif", "xmp", "icc_profile", "comment", "mp", "photoshop"} & set(image.info)
    # Only the JFIF header: no APP1 (EXIF, XMP), APP2 (ICC, MPF), APP13 or comment segment.
    app_and_comment = [m for m in jpeg_segments(jpeg) if 0xE0 <= m <= 0xEF or m == 0xFE]
    assert app_and_comment == [0xE0]
    assert b"Exif" not in jpeg
    assert b"http://ns.adobe.com" not in jpeg


@pytest.mark.parametrize("n", range(9))
def test_every_exif_orientation_comes_out_as_the_same_picture(n: int) -> None:
    name = "orientation_0_invalid.jpg" if n == 0 else f"orientation_{n}.jpg"
    reference_picture = opened(processed("orientation_1.jpg").display_jpeg)
    display = opened(processed(name).display_jpeg)

    assert display.size == reference_picture.size == (1800, 1200)
    # Only the drawn orientation number differs (MANIFEST: at most 3.9 per channel).
    assert max(mean_difference(display, reference_picture)) < 6


@pytest.mark.parametrize(
    ("name", "portrait"),
    [
        ("samsung_j327t1_orient6.jpg", True),
        ("leica_t_orient8_16mp_nan_gps.jpg", True),
        ("iphone8plus_irot_orient6_p3.heic", True),  # EXIF still says 6: not applied twice
        ("iphonex_exif_orient6_gps.webp", True),
        ("oppo_r7plus_13mp_gps.jpg", True),
        ("iphone13pro_depth_gps_p3.heic", False),
        ("iphone5_orient3_gps.jpg", False),
    ],
)
def test_phone_photos_keep_the_way_they_were_held(name: str, portrait: bool) -> None:
    photo = processed(name)
    assert (photo.height > photo.width) is portrait


def test_adobe_rgb_is_converted_to_srgb_through_its_profile() -> None:
    name = "canon_eos7d_adobergb.jpg"
    display = opened(processed(name).display_jpeg)

    converted = mean_difference(display, through_embedded_profile(name, display.size))
    naive = mean_difference(display, reference(name, display.size))
    assert max(converted) < 4
    assert naive[0] > 15  # red shifts by ~23 levels when the profile is dropped


def test_cmyk_is_converted_to_srgb_through_its_embedded_profile() -> None:
    name = "cmyk_swop_icc_multisegment.jpg"
    display = opened(processed(name).display_jpeg)

    converted = mean_difference(display, through_embedded_profile(name, display.size))
    naive = mean_difference(display, reference(name, display.size))
    assert max(converted) < 4
    assert max(naive) > 5


@pytest.mark.parametrize(
    "name", ["iphone8plus_irot_orient6_p3.heic", "iphone13pro_depth_gps_p3.heic"]
)
def test_display_p3_heic_is_converted_to_srgb(name: str) -> None:
    display = opened(processed(name).display_jpeg)
    assert max(mean_difference(display, through_embedded_profile(name, display.size))) < 3


def test_saturated_display_p3_colours_are_mapped_into_srgb() -> None:
    # The iPhone photos are too muted to tell P3 from sRGB; a saturated swatch is not.
    with Image.open(TESTDATA / "iphone13pro_depth_gps_p3.heic") as heic:
        p3 = heic.info["icc_profile"]
    swatch = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 60, 40)).save(swatch, "PNG", icc_profile=p3)

    pixel = opened(process_photo(swatch.getvalue()).display_jpeg).getpixel((32, 32))

    assert isinstance(pixel, tuple)
    expected = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), (200, 60, 40)),
        ImageCms.ImageCmsProfile(io.BytesIO(p3)),
        ImageCms.createProfile("sRGB"),
    )
    assert expected is not None
    wanted = expected.getpixel((0, 0))
    assert isinstance(wanted, tuple)
    assert wanted[0] > 215  # P3 red is redder than sRGB can show, so the value rises
    assert all(abs(a - b) <= 3 for a, b in zip(pixel, wanted, strict=True))


def test_transparent_areas_are_composited_onto_white_not_black() -> None:
    with Image.open(TESTDATA / "rgba_alpha.png") as source:
        alpha = source.getchannel("A")
    transparent = alpha.point(lambda a: 255 if a == 0 else 0, "L")
    display = opened(processed("rgba_alpha.png").display_jpeg).convert("L")

    assert display.size == alpha.size
    brightness = ImageStat.Stat(display, mask=transparent)
    assert brightness.count[0] == 11_780
    assert brightness.mean[0] > 245


def test_a_16_bit_greyscale_png_keeps_its_tones_instead_of_turning_white() -> None:
    ramp = Image.linear_gradient("L").rotate(90).resize((256, 64))  # dark left, light right
    sixteen_bit = ramp.convert("I").point(lambda v: v * 257).convert("I;16")
    upload = io.BytesIO()
    sixteen_bit.save(upload, "PNG")
    assert Image.open(io.BytesIO(upload.getvalue())).mode == "I;16"

    display = opened(process_photo(upload.getvalue()).display_jpeg).convert("L")

    assert mean_difference(display, ramp)[0] < 3


def test_a_palette_png_with_a_transparent_colour_gets_a_white_background() -> None:
    palette = Image.new("P", (64, 64), 0)
    palette.putpalette([0, 0, 0, 200, 30, 30])
    palette.paste(1, (16, 16, 48, 48))  # a red square on transparent black
    upload = io.BytesIO()
    palette.save(upload, "PNG", transparency=0)

    display = opened(process_photo(upload.getvalue()).display_jpeg)

    assert display.getpixel((2, 2)) == (255, 255, 255)
    red = display.getpixel((32, 32))
    assert isinstance(red, tuple)
    assert red[0] > 150 > red[1]


def test_only_the_first_frame_of_a_stereo_mpo_is_used() -> None:
    display = opened(processed("nintendo3ds_stereo.mpo").display_jpeg)
    with Image.open(TESTDATA / "nintendo3ds_stereo.mpo") as mpo:
        assert mpo.format == "MPO"
        mpo.seek(0)
        left = mpo.convert("RGB")
        mpo.seek(1)
        right = mpo.convert("RGB")

    to_left, to_right = mean_difference(display, left), mean_difference(display, right)
    assert max(to_left) < 3
    assert sum(to_left) < sum(to_right)


def test_a_big_jpeg_is_decoded_at_reduced_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded_sizes = []
    original_draft = JpegImageFile.draft

    def spy(self: JpegImageFile, mode: str | None, size: tuple[int, int] | None) -> object:
        result = original_draft(self, mode, size)
        decoded_sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImageFile, "draft", spy)
    process_photo((TESTDATA / "oppo_r7plus_13mp_gps.jpg").read_bytes())

    assert decoded_sizes == [(1560, 2080)]  # half of 3120x4160, still above 1500x2000


@pytest.mark.parametrize("name", REFUSED)
def test_a_refused_file_gets_a_clear_4xx_that_leaks_no_location(name: str) -> None:
    started = time.perf_counter()
    with pytest.raises(DomainError) as refused:
        process_photo((TESTDATA / name).read_bytes())

    assert type(refused.value) is EXPECTED[name].refused_with
    assert 400 <= refused.value.status_code < 500
    message = refused.value.message
    assert "GPS" not in message
    assert not [c for c in COORDINATES if c in message]
    assert time.perf_counter() - started < 2  # from the header, not a full decode


def test_the_200_megapixel_heic_is_refused_without_decoding_it() -> None:
    growth = peak_memory_growth_mb(TESTDATA / "galaxy_s24ultra_200mp.heic")
    assert growth < 64  # a full decode peaks around 1.4 GB


def test_truncated_images_are_never_accepted_through_the_global_flag() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_a_text_file_named_jpg_is_not_a_photo(tmp_path: Path) -> None:
    upload = tmp_path / "front-left.jpg"
    upload.write_text("Brake pads worn, customer informed.\n" * 100)
    # The pipeline never sees the name: only the content decides.
    with pytest.raises(InvalidInput):
        process_photo(upload.read_bytes())


def test_an_empty_upload_is_not_a_photo() -> None:
    with pytest.raises(InvalidInput):
        process_photo(b"")


def test_an_image_in_a_format_we_do_not_take_is_refused() -> None:
    gif = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(gif, "GIF")
    with pytest.raises(InvalidInput):
        process_photo(gif.getvalue())


def test_an_upload_over_the_byte_limit_is_refused_before_it_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pipeline tried to decode an oversized upload")

    monkeypatch.setattr(photo_pipeline.Image, "open", no_decoding)
    with pytest.raises(TooLarge) as refused:
        process_photo(b"\xff\xd8\xff" + bytes(60 * 1024 * 1024))
    assert refused.value.status_code == 413


def test_an_upload_of_exactly_the_byte_limit_is_judged_on_its_content() -> None:
    with pytest.raises(InvalidInput):
        process_photo(bytes(MAX_UPLOAD_BYTES))


@pytest.mark.parametrize(
    "size",
    [
        (20_000, 20_000),  # 400 MP: Pillow itself raises DecompressionBombError
        (10_000, 10_000),  # 100 MP: Pillow only warns
        (8_000, 8_000),  # 64 MP: within Pillow's limits, above ours
    ],
)
def test_a_pixel_bomb_is_refused_from_its_header(
    size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = png(*size)
    assert len(bomb) < 200_000

    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the pipeline decoded a decompression bomb")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(TooLarge):
        process_photo(bomb)


def test_a_decompression_bomb_warning_turned_into_an_error_is_the_same_clear_refusal() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(TooLarge):
            process_photo(png(10_000, 10_000))


def test_a_20000_by_20000_png_never_costs_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png(20_000, 20_000))
    assert peak_memory_growth_mb(bomb) < 64


def test_a_photo_of_exactly_the_pixel_limit_is_accepted_and_shrunk() -> None:
    photo = process_photo(png(10_000, MAX_PIXELS // 10_000))
    assert (photo.width, photo.height) == (2000, 1000)


def test_the_sha256_is_of_the_bytes_as_received() -> None:
    data = (TESTDATA / "iphone5_orient3_gps.jpg").read_bytes()
    assert processed("iphone5_orient3_gps.jpg").sha256 == hashlib.sha256(data).hexdigest()


def test_the_result_does_not_print_its_jpeg_bytes() -> None:
    assert "display_jpeg" not in repr(processed("rgba_alpha.png"))
