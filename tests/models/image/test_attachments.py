"""Attachment checks: only sound PNG, JPEG and WebP images of a sane size get through."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from models.base import GenerationError
from models.image.attachments import MAX_BYTES, fit, load_image
from wire.contract import ErrorCode


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A valid small PNG whose header is rewritten to claim width x height pixels."""
    data = bytearray(encoded(Image.new("RGB", (4, 4)), "PNG"))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def reason(data: bytes) -> str:
    with pytest.raises(GenerationError) as caught:
        load_image(data)
    assert caught.value.code == ErrorCode.INVALID_INPUT
    return caught.value.message


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_accepted_formats(fmt: str) -> None:
    image = load_image(encoded(Image.new("RGB", (40, 30), (10, 200, 30)), fmt))
    assert image.mode == "RGB" and image.size == (40, 30)


def test_rejected_formats_are_named() -> None:
    assert "GIF" in reason(encoded(Image.new("P", (8, 8)), "GIF"))
    assert "BMP" in reason(encoded(Image.new("RGB", (8, 8)), "BMP"))
    assert "TIFF" in reason(encoded(Image.new("RGB", (8, 8)), "TIFF"))
    assert "SVG" in reason(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>')
    assert "empty" in reason(b"")


def test_damaged_and_truncated() -> None:
    whole = encoded(Image.new("RGB", (64, 64), (1, 2, 3)), "JPEG")
    assert "damaged" in reason(whole[: len(whole) // 3])
    assert "damaged" in reason(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)


def test_pixel_bombs_and_huge_files() -> None:
    assert "megapixels" in reason(png_claiming(5000, 5000))
    assert "far too large" in reason(png_claiming(60000, 60000))
    assert "larger than" in reason(b"\xff\xd8\xff" + b"\x00" * MAX_BYTES)


def test_transparency_goes_on_white_and_exif_rotation_applies() -> None:
    clear = load_image(encoded(Image.new("RGBA", (4, 4), (0, 0, 0, 0)), "PNG"))
    assert clear.getpixel((0, 0)) == (255, 255, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    rotated = load_image(encoded(Image.new("RGB", (40, 20)), "JPEG", exif=exif.tobytes()))
    assert rotated.size == (20, 40)


def test_fit_crops_to_the_requested_size() -> None:
    assert fit(Image.new("RGB", (300, 100)), 64, 96).size == (64, 96)
