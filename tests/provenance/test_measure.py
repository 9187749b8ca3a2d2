"""The measurement on real photographs, kept runnable: a few bundled photos through every attack."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from provenance import measure, watermark
from tests.provenance.conftest import gradient_image, scene_image

# Colour, dark (hubble: the case the luma read fixed) and grey (luma-only marks) sources.
SOURCES = ("astronaut", "hubble", "coffee", "camera", "gravel")


def _installed() -> set[str]:
    return {source.name for source in measure.available_photos()}


def test_photo_sources_are_described() -> None:
    names = [source.name for source in measure.PHOTO_SOURCES]
    assert len(set(names)) == len(names) >= 15
    assert all(source.licence for source in measure.PHOTO_SOURCES)


def test_photos_survive_the_attacks() -> None:
    missing = set(SOURCES) - _installed()
    if missing:
        pytest.skip(f"photo sources not installed ({', '.join(sorted(missing))}): pip install scikit-image")
    rng = np.random.default_rng(7)
    samples = list(measure.photo_set(len(SOURCES), (512, 512), rng, sources=SOURCES))
    assert sorted(kind for kind, _, _ in samples) == sorted(SOURCES)
    for kind, image, crop in samples:
        assert image.size == (512, 512) and image.mode == "RGB", crop
        row = measure.measure_one(kind, image, int(rng.integers(0, 2**watermark.REFERENCE_BITS)), crop)
        for attack in ("clean", "JPEG q80", "resize 75% and back", "JPEG q70", "WebP q80"):
            assert row.reads[attack], f"{kind} {crop}: not read after {attack}"
        assert not row.unmarked_false_positive, f"{kind} {crop}"
        # Grey photos get a luma-only mark (their chroma is flat): cheaper than the colour ones' mark.
        grey = kind in {"camera", "gravel"}
        assert row.luma_only == grey, f"{kind} {crop}"
        assert row.psnr >= (40.0 if grey else 36.0), f"{kind} {crop}: {row.psnr:.1f} dB"


def test_photo_crops_keep_the_aspect_and_are_reproducible() -> None:
    if "rocket" not in _installed():
        pytest.skip("scikit-image's bundled rocket.jpg is not installed: pip install scikit-image")
    first = list(measure.photo_set(3, (768, 512), np.random.default_rng(1), sources=["rocket"]))
    again = list(measure.photo_set(3, (768, 512), np.random.default_rng(1), sources=["rocket"]))
    assert [crop for _, _, crop in first] == [crop for _, _, crop in again]
    for (_, image, crop), (_, same, _) in zip(first, again, strict=True):
        assert image.size == (768, 512)
        assert np.array_equal(np.asarray(image), np.asarray(same))
        width, height = (int(v) for v in crop.split("+")[0].split("x"))
        assert abs(width / height - 1.5) < 0.02


def test_photo_set_without_sources_says_so() -> None:
    with pytest.raises(measure.PhotosUnavailable, match="pip install"):
        next(measure.photo_set(1, (512, 512), np.random.default_rng(0), sources=["no such photo"]))


def test_folder_set_reads_images_at_their_own_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The set a GPU worker uses for unmarked outputs of a real model."""
    scene_image(512).save(tmp_path / "a.png")
    gradient_image(512).resize((768, 512)).save(tmp_path / "b.jpg", quality=95)
    (tmp_path / "notes.txt").write_text("not an image")
    monkeypatch.setattr(measure, "FOLDER", tmp_path)
    rows = measure.measure_set("folder", 10, (512, 512), seed=0)
    assert [(row.kind, row.description) for row in rows] == [("512x512", "a.png"), ("768x512", "b.jpg")]
    assert all(row.clean and row.jpeg80 and row.resize75 for row in rows)


def test_library_and_atelier_read_each_other_on_a_dark_photo() -> None:
    """The luma fallback changes only Atelier's reader: the library still reads Atelier's mark, and
    Atelier reads the library's mark on a Hubble crop after JPEG q80, where the library's own
    three-channel read fails."""
    if "hubble" not in _installed():
        pytest.skip("scikit-image's bundled hubble_deep_field.jpg is not installed: pip install scikit-image")
    from provenance import bwm_library

    _, image, _ = next(measure.photo_set(1, (512, 512), np.random.default_rng(0), sources=["hubble"]))
    bits = watermark.encode_payload(0x3F2A9C1E)
    keys = (watermark._PASSWORD_IMG, watermark._PASSWORD_WM)
    ours = watermark.embed(image, 0x3F2A9C1E)
    assert np.array_equal(bwm_library.extract(watermark._to_bgr(ours), 48, *keys) >= 0.5, bits)
    theirs = bwm_library.embed(watermark._to_bgr(image), bits, *keys)
    theirs_jpeg = measure.jpeg(
        Image.fromarray(np.clip(np.rint(theirs[:, :, ::-1]), 0, 255).astype(np.uint8), "RGB")
    )
    assert (
        watermark.decode_payload(bwm_library.extract(watermark._to_bgr(theirs_jpeg), 48, *keys) >= 0.5)
        is None
    )
    read = watermark.extract(theirs_jpeg)
    assert read is not None and read.hex == "3f2a9c1e"


def test_flat_grey_photo_crop_gets_a_cheap_luma_only_mark(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sky corner of `camera` (grey, nearly flat: a spread of about 6 levels), enlarged 2x to the
    minimum size: the luma-only mark stays over 35 dB (the three-channel one did not) and is read back
    exactly after JPEG q80 and the resize."""
    if "camera" not in _installed():
        pytest.skip("scikit-image's bundled camera.png is not installed: pip install scikit-image")
    path = next(path for source, path in measure.available_photos().items() if source.name == "camera")
    with Image.open(path) as opened:
        crop = opened.convert("RGB").crop((384, 0, 512, 128)).resize((256, 256), Image.Resampling.LANCZOS)
    assert np.asarray(crop.convert("L"), float).std() < 10
    marked, luma_only = watermark.mark(crop, watermark.encode_payload(0x3F2A9C1E))
    assert luma_only and measure.psnr(crop, marked) >= 40
    for attack in (measure.jpeg, measure.resized_back):
        read = watermark.extract(attack(marked))
        assert read is not None and read.hex == "3f2a9c1e"
    monkeypatch.setattr(watermark, "LUMA_ONLY_WHEN_NEUTRAL", False)
    assert measure.psnr(crop, watermark.embed(crop, 0x3F2A9C1E)) < 35.5
