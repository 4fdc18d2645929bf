"""An uploaded photo becomes two upright, metadata-free sRGB JPEGs: display and thumbnail.

Everything here is CPU-bound and synchronous: call `process_photo` from a worker thread
(`anyio.to_thread.run_sync`). Pillow releases the GIL while it decodes, resizes and encodes.

Nothing from the upload's metadata reaches the output or an error message: the JPEGs are
encoded from bare pixels (no EXIF, GPS, XMP, ICC profile or comment), and every refusal is
one of a few fixed messages.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

import pillow_heif
from PIL import Image, ImageCms, ImageOps

from app.errors import DomainError, InvalidInput
from app.i18n import _

MAX_UPLOAD_MB = 25
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
# 50 MP covers every phone's default mode; a 200 MP "high resolution" shot would need
# about 1.4 GB to decode, so it is refused from its header instead.
MAX_MEGAPIXELS = 50
MAX_PIXELS = MAX_MEGAPIXELS * 1_000_000
DISPLAY_LONG_EDGE = 2000
THUMB_LONG_EDGE = 320
JPEG_QUALITY = 85
RESAMPLE = Image.Resampling.LANCZOS
# Box-reduce first when shrinking by more than 3x: much faster, and Pillow's docs call the
# result indistinguishable from a full Lanczos pass.
REDUCING_GAP = 3.0
# Pillow reads an MPO (and a JPEG with an MPF gain map) through its JPEG opener.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
_ALPHA_MODES = ("RGBA", "LA")
_KEPT_MODES = ("RGB", "L", "CMYK", *_ALPHA_MODES)

pillow_heif.register_heif_opener()


class TooLarge(DomainError):
    status_code = 413


@dataclass(frozen=True)
class ProcessedPhoto:
    sha256: str  # of the bytes as received, before any processing
    display_jpeg: bytes = field(repr=False)
    thumb_jpeg: bytes = field(repr=False)
    width: int
    height: int
    thumb_width: int
    thumb_height: int
    source_format: str  # "JPEG", "PNG", "WEBP" or "HEIF"


def process_photo(data: bytes) -> ProcessedPhoto:
    """Check, decode, turn upright, convert to sRGB and encode. Raises DomainError on bad input."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_many_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    with _open(data) as image:
        # MPO is Pillow's name for a JPEG carrying extra frames (stereo pair, HDR gain map).
        source_format = "JPEG" if image.format == "MPO" else image.format or ""
        icc_profile = image.info.get("icc_profile")
        _decode(image)
        display = _fit(_normalise_mode(image), DISPLAY_LONG_EDGE)
        # pillow-heif has already applied the HEIF irot/imir and reset Orientation to 1;
        # turning by the EXIF value as well would put an upright iPhone photo on its side.
        if source_format != "HEIF":
            _apply_exif_orientation(display)
        display = _to_srgb(_flatten_on_white(display), icc_profile)
        thumb = _fit(display, THUMB_LONG_EDGE)
        # Encode inside the block: `display` may still be the opened image itself.
        display_jpeg, thumb_jpeg = _encode_jpeg(display), _encode_jpeg(thumb)
    return ProcessedPhoto(
        sha256=sha256,
        display_jpeg=display_jpeg,
        thumb_jpeg=thumb_jpeg,
        width=display.width,
        height=display.height,
        thumb_width=thumb.width,
        thumb_height=thumb.height,
        source_format=source_format,
    )


def fit_within(size: tuple[int, int], long_edge: int) -> tuple[int, int]:
    """The size scaled down (never up) so that its longer side is at most `long_edge`."""
    width, height = size
    scale = min(1.0, long_edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _open(data: bytes) -> Image.Image:
    """Identify the format from the content and check the pixel count from the header."""
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limits (2x and 1x MAX_IMAGE_PIXELS) are above ours, so both only
        # fire for images we refuse anyway; the warning arrives here only if the warnings
        # filter turns it into an error.
        raise _too_many_pixels() from None
    except Image.UnidentifiedImageError:
        raise _not_a_photo() from None
    except MemoryError:
        raise
    except Exception:
        # A recognised header that its plugin cannot parse: ValueError, SyntaxError,
        # struct.error and others, depending on the plugin.
        raise _damaged() from None
    if image.width * image.height > MAX_PIXELS:
        image.close()
        raise _too_many_pixels()
    return image


def _decode(image: Image.Image) -> None:
    # A JPEG decodes at 1/2, 1/4 or 1/8 scale straight from the DCT coefficients when the
    # display size is that much smaller: a 12 MP photo decodes in about half the time.
    # Other formats ignore draft().
    image.draft(None, fit_within(image.size, DISPLAY_LONG_EDGE))
    try:
        # A truncated JPEG opens fine and fails only here; we refuse it rather than set
        # LOAD_TRUNCATED_IMAGES, which would publish a mostly grey picture.
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except MemoryError:
        raise
    except Exception:
        raise _damaged() from None


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Bring palette, 1-bit and 16-bit images to a mode that resizes with filtering."""
    if image.mode in _KEPT_MODES and "transparency" not in image.info:
        return image
    if image.mode.startswith("I"):
        # A 16-bit greyscale PNG: convert() would clip 0..65535 to 0..255 and give white.
        return image.convert("I").point(lambda value: value / 256).convert("L")
    has_alpha = "A" in image.mode or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _fit(image: Image.Image, long_edge: int) -> Image.Image:
    size = fit_within(image.size, long_edge)
    if size == image.size:
        return image
    return image.resize(size, RESAMPLE, reducing_gap=REDUCING_GAP)


def _apply_exif_orientation(image: Image.Image) -> None:
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except MemoryError:
        raise
    except Exception:  # noqa: S110
        # An unreadable EXIF block: the pixels are fine, so keep them as stored rather
        # than refuse a usable photo.
        pass


def _flatten_on_white(image: Image.Image) -> Image.Image:
    """Composite transparent pixels onto white; JPEG has no alpha, and black would show."""
    if image.mode not in _ALPHA_MODES:
        return image
    background = Image.new(image.mode[:-1], image.size, "white")
    background.paste(image, mask=image.getchannel("A"))
    return background


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert through the embedded profile; without one, assume the pixels are sRGB."""
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            if image.mode == "RGB" and _is_srgb(source):
                return image  # an identity transform would cost ~10 ms for nothing
            # A fresh sRGB profile per call: LittleCMS profile handles are not shared
            # safely between threads.
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile, or one for another colour space than the pixels
    return image if image.mode == "RGB" else image.convert("RGB")


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    return ImageCms.getProfileDescription(profile).strip().lower().startswith("srgb")


def _encode_jpeg(image: Image.Image) -> bytes:
    # Pillow writes a JPEG comment from image.info by default; start from a clean slate
    # so nothing of the upload can ride along.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=False)
    return buffer.getvalue()


def _not_a_photo() -> InvalidInput:
    return InvalidInput(
        _("This file is not a photo. Please upload a JPEG, PNG, WebP or HEIC image.")
    )


def _damaged() -> InvalidInput:
    return InvalidInput(_("This photo is damaged or incomplete. Please take it again."))


def _too_many_bytes() -> TooLarge:
    return TooLarge(_("This photo is too large. The limit is %(limit)d MB.", limit=MAX_UPLOAD_MB))


def _too_many_pixels() -> TooLarge:
    return TooLarge(
        _(
            "This photo has too many pixels. The limit is %(limit)d megapixels.",
            limit=MAX_MEGAPIXELS,
        )
    )
