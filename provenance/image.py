"""Stamp an image with everything provenance asks of it: the watermark and the PNG text chunks."""

from __future__ import annotations

from typing import Any

from PIL import Image

from provenance import watermark
from provenance.png import encode_png


def watermark_status(image: Image.Image, job_id: str) -> str:
    """What the watermark step will do to this image, as recorded in its metadata."""
    if watermark.can_hold(*image.size):
        return f"embedded (job reference {job_id[: watermark.REFERENCE_HEX]})"
    return f"none: images under {watermark.MIN_SIDE}x{watermark.MIN_SIDE} pixels cannot carry one"


def watermarked(image: Image.Image, job_id: str) -> Image.Image:
    """The image carrying the job's reference, or unchanged (RGB) when it is too small."""
    if not watermark.can_hold(*image.size):
        return image.convert("RGB")
    return watermark.embed(image, watermark.job_reference(job_id))


def stamp_png(image: Image.Image, record: dict[str, Any]) -> bytes:
    """PNG bytes of the watermarked image with the record (plus its watermark status) in text chunks."""
    job_id = str(record["job_id"])
    status = watermark_status(image, job_id)
    return encode_png(watermarked(image, job_id), {**record, "watermark": status})
