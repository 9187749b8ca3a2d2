"""Check and decode an uploaded image before it goes anywhere near a pipeline."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps

from models.base import GenerationError
from wire.contract import ErrorCode

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
ACCEPTED = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "a GIF"),
    (b"GIF89a", "a GIF"),
    (b"BM", "a BMP"),
    (b"II*\x00", "a TIFF"),
    (b"MM\x00*", "a TIFF"),
    (b"%PDF", "a PDF"),
    (b"\x00\x00\x01\x00", "an ICO"),
)


def _invalid(sentence: str) -> GenerationError:
    return GenerationError(ErrorCode.INVALID_INPUT, sentence)


def _describe(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        return "an SVG drawing"
    if data[4:12] in (b"ftypavif", b"ftypheic", b"ftypmif1", b"ftypheix"):
        return "an AVIF/HEIC image"
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return "not an image Atelier can read"


def _is_accepted_signature(data: bytes) -> bool:
    return (
        data.startswith(b"\x89PNG\r\n\x1a\n")
        or data.startswith(b"\xff\xd8\xff")
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
    )


def load_image(data: bytes) -> Image.Image:
    """The attachment as an RGB image (EXIF rotation applied, transparency on white), or INVALID_INPUT."""
    if not data:
        raise _invalid("The attached file is empty.")
    if len(data) > MAX_BYTES:
        raise _invalid(
            f"The attached image is larger than {MAX_BYTES // (1024 * 1024)} MB; please send a smaller one."
        )
    if not _is_accepted_signature(data):
        raise _invalid(f"Only PNG, JPEG or WebP images can be used; the attachment is {_describe(data)}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED:
                raise _invalid(
                    f"Only PNG, JPEG or WebP images can be used; the attachment is {image.format}."
                )
            if image.width * image.height > MAX_PIXELS:
                raise _invalid(
                    f"The attached image is {image.width}x{image.height} pixels; the limit is "
                    f"{MAX_PIXELS // 1_000_000} megapixels."
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _invalid("The attached image claims to be far too large to open.") from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise _invalid("The attached image is damaged or incomplete and cannot be opened.") from None
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return upright.convert("RGB")


def fit(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale and centre-crop the image to exactly width x height."""
    return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
