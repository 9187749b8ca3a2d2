"""Tell whether a file came from Atelier: read its metadata (any format) and its image watermark.

`atelier verify FILE` and `/verify` call `verify(data, filename)`. Images are also checked for the
watermark at their own size and, for resized copies, scaled back to each allowed output size of the
same aspect ratio.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from PIL import Image

from provenance import LABEL, watermark
from provenance.audio import MIDI_MAGIC, OGG_MAGIC, read_midi_provenance, read_ogg_provenance
from provenance.png import PNG_MAGIC, read_png_provenance
from provenance.text import parse_footer

# Every output size of the bundled presets (config/atelier.toml); callers may pass their own.
DEFAULT_SIZES: tuple[tuple[int, int], ...] = (
    (512, 512),
    (768, 768),
    (512, 768),
    (768, 512),
    (1024, 1024),
    (768, 1344),
    (1344, 768),
)
MAX_PIXELS = 50_000_000
# reading the watermark takes about 1 s per megapixel here; larger images are only read scaled down
MAX_READ_SIDE = 2048
MAX_TEXT_BYTES = 1_000_000
# binary formats whose first bytes happen to be valid UTF-8 (GIF, TIFF, PDF)
_OTHER_BINARY = (b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"%PDF")

Format = Literal["png", "jpeg", "webp", "midi", "ogg", "text", "unknown"]
FoundBy = Literal["metadata", "watermark", "both"]


@dataclass
class VerifyReport:
    """What a file says about its origin."""

    format: Format
    filename: str | None = None
    found_by: FoundBy | None = None
    job_id: str | None = None
    reference: str | None = None  # the watermark's 8 hex characters (the job id's first 8)
    model: str | None = None
    seed: int | None = None
    label: str | None = None
    watermark: str = "not applicable"  # found | absent | too small | not applicable
    record: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def from_atelier(self) -> bool:
        return self.found_by is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"from_atelier": self.from_atelier}


def sniff(data: bytes) -> Format:
    """The file's format from its first bytes (never from its name)."""
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(MIDI_MAGIC):
        return "midi"
    if data.startswith(OGG_MAGIC):
        return "ogg"
    if data.startswith(_OTHER_BINARY):
        return "unknown"
    if len(data) <= MAX_TEXT_BYTES and b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return "unknown"
        return "text"
    return "unknown"


def _apply_record(report: VerifyReport, record: dict[str, Any]) -> None:
    report.record = record
    report.job_id = record.get("job_id")
    report.model = record.get("model")
    seed = record.get("seed")
    report.seed = int(seed) if isinstance(seed, int) else None
    report.label = record.get("label")
    report.found_by = "metadata"


def _open_image(data: bytes) -> Image.Image | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                return None
            image.load()
            return image.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None


def _candidates(image: Image.Image, sizes: Iterable[tuple[int, int]]) -> Iterable[Image.Image]:
    """The image as is (unless huge), then scaled to each allowed size of (nearly) the same aspect ratio."""
    if max(image.size) <= MAX_READ_SIDE:
        yield image
    ratio = image.width / image.height
    for width, height in sizes:
        if (width, height) != image.size and abs(width / height - ratio) <= 0.02 * ratio:
            yield image.resize((width, height), Image.Resampling.LANCZOS)


def read_watermark(
    image: Image.Image, sizes: Iterable[tuple[int, int]] = DEFAULT_SIZES
) -> watermark.WatermarkRead | None:
    """The watermark in an image or a resized copy of one, or None."""
    for candidate in _candidates(image, sizes):
        read = watermark.extract(candidate)
        if read is not None:
            return read
    return None


def _verify_image(report: VerifyReport, data: bytes, sizes: Iterable[tuple[int, int]]) -> None:
    if report.format == "png" and (record := read_png_provenance(data)) is not None:
        _apply_record(report, record)
    image = _open_image(data)
    if image is None:
        report.notes.append("The image could not be decoded (damaged, or too large to check).")
        report.watermark = "absent"
        return
    if not watermark.can_hold(*image.size):
        report.watermark = "too small"
        report.notes.append(
            f"Images under {watermark.MIN_SIDE}x{watermark.MIN_SIDE} pixels carry no watermark."
        )
        return
    read = read_watermark(image, sizes)
    if read is None:
        report.watermark = "absent"
        return
    report.watermark = "found"
    report.reference = read.hex
    if report.job_id is None:
        report.found_by = "watermark"
        report.label = LABEL
    elif report.job_id.startswith(read.hex):
        report.found_by = "both"
    else:
        report.notes.append(
            f"The watermark (job reference {read.hex}) does not match the metadata (job {report.job_id}): "
            "the metadata was probably copied from another file."
        )


def verify(
    data: bytes, filename: str | None = None, allowed_sizes: Iterable[tuple[int, int]] = DEFAULT_SIZES
) -> VerifyReport:
    """Read provenance from a file's bytes: metadata of any supported format and the image watermark."""
    report = VerifyReport(format=sniff(data), filename=filename)
    if report.format in ("png", "jpeg", "webp"):
        _verify_image(report, data, list(allowed_sizes))
    elif report.format == "midi":
        record = read_midi_provenance(data)
        if record is not None:
            _apply_record(report, record)
    elif report.format == "ogg":
        record = read_ogg_provenance(data)
        if record is not None:
            _apply_record(report, record)
    elif report.format == "text":
        record = parse_footer(data.decode("utf-8"))
        if record is not None:
            _apply_record(report, record)
    else:
        report.notes.append("Not a file type Atelier makes (PNG, JPEG, WebP, MIDI, Ogg Vorbis or text).")
    if report.found_by is None and report.format != "unknown":
        report.notes.append("No Atelier provenance was found in this file.")
    return report
