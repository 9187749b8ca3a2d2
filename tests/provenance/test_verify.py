"""verify(): provenance found in each format, by metadata, watermark or both."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from provenance import LABEL
from provenance.audio import add_midi_provenance, add_ogg_provenance
from provenance.image import stamp_png
from provenance.png import encode_png
from provenance.text import add_footer
from provenance.verify import _candidates, sniff, verify
from tests.provenance.conftest import scene_image
from tests.provenance.test_formats import midi_bytes, ogg_bytes


def test_stamped_png_is_found_by_both(record: dict[str, Any]) -> None:
    report = verify(stamp_png(scene_image(), record), "out.png")
    assert report.format == "png" and report.found_by == "both" and report.from_atelier
    assert report.job_id == record["job_id"] and report.reference == "3f2a9c1e"
    assert report.model == "atelier-folk" and report.seed == 42 and report.label == LABEL
    assert report.record is not None and report.record["watermark"].startswith("embedded")


def test_jpeg_copy_is_found_by_watermark(record: dict[str, Any]) -> None:
    png = stamp_png(scene_image(), record)
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).save(buffer, "JPEG", quality=80)
    report = verify(buffer.getvalue(), "copy.jpg")
    assert report.format == "jpeg" and report.found_by == "watermark"
    assert report.reference == "3f2a9c1e" and report.job_id is None and report.label == LABEL


def test_resized_copy_is_found_at_an_allowed_size(record: dict[str, Any]) -> None:
    png = stamp_png(scene_image(), record)
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).resize((384, 384), Image.Resampling.LANCZOS).save(buffer, "WEBP", quality=90)
    report = verify(buffer.getvalue(), allowed_sizes=[(512, 768), (512, 512)])
    assert report.format == "webp" and report.found_by == "watermark" and report.reference == "3f2a9c1e"
    assert verify(buffer.getvalue(), allowed_sizes=[(768, 512)]).found_by is None


def test_huge_copy_is_read_only_at_allowed_sizes(record: dict[str, Any]) -> None:
    marked = Image.open(io.BytesIO(stamp_png(scene_image(), record)))
    buffer = io.BytesIO()
    marked.resize((2560, 2560), Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=90)
    assert verify(buffer.getvalue(), allowed_sizes=[(512, 512)]).reference == "3f2a9c1e"
    big, small = Image.new("RGB", (2560, 2560)), Image.new("RGB", (2048, 1024))
    assert [c.size for c in _candidates(big, [(512, 512), (512, 768)])] == [(512, 512)]
    assert [c.size for c in _candidates(small, [(512, 512), (1344, 768)])] == [(2048, 1024)]


def test_metadata_copied_onto_another_image_is_called_out(record: dict[str, Any]) -> None:
    other = stamp_png(scene_image(), {**record, "job_id": "00000001" + "0" * 24})
    forged = encode_png(Image.open(io.BytesIO(other)), record)
    report = verify(forged)
    assert report.found_by == "metadata" and report.reference == "00000001"
    assert any("does not match" in note for note in report.notes)


def test_small_and_unmarked_images(record: dict[str, Any]) -> None:
    small = verify(stamp_png(Image.new("RGB", (64, 64)), record))
    assert small.found_by == "metadata" and small.watermark == "too small"
    buffer = io.BytesIO()
    scene_image(256).save(buffer, "PNG")
    plain = verify(buffer.getvalue())
    assert plain.found_by is None and plain.watermark == "absent" and not plain.from_atelier


def test_audio_text_and_unknown(record: dict[str, Any]) -> None:
    for data, fmt in (
        (add_midi_provenance(midi_bytes(), record), "midi"),
        (add_ogg_provenance(ogg_bytes(), record), "ogg"),
        (add_footer("A short poem.", record).encode(), "text"),
    ):
        report = verify(data)
        assert (report.format, report.found_by, report.job_id) == (fmt, "metadata", record["job_id"])
        assert report.seed == 42 and report.label == LABEL
    assert verify(midi_bytes()).found_by is None
    unknown = verify(b"\x00\x01\x02binary", "x.bin")
    assert unknown.format == "unknown" and unknown.found_by is None and unknown.filename == "x.bin"
    assert sniff(b"GIF89a\x01\x00") == sniff(b"GIF89a") == sniff(b"%PDF-1.7") == "unknown"
    assert sniff("plain words, ünïcode".encode()) == sniff(b"BMX poem") == "text"
    assert verify(b"\x89PNG\r\n\x1a\n broken").found_by is None
