"""The invisible watermark: payload coding, survival of JPEG 80, and its side effects."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from provenance import watermark
from tests.provenance.conftest import gradient_image, scene_image


def jpeg80(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_payload_coding() -> None:
    bits = watermark.encode_payload(0xDEADBEEF)
    assert bits.size == watermark.PAYLOAD_BITS == 48
    assert watermark.decode_payload(bits) == 0xDEADBEEF
    for position in (0, 17, 40, 47):
        damaged = bits.copy()
        damaged[position] = not damaged[position]
        assert watermark.decode_payload(damaged) is None
    assert watermark.job_reference("3f2a9c1e7b44" + "f" * 20) == 0x3F2A9C1E


@pytest.mark.parametrize("make", [gradient_image, scene_image])
def test_reference_survives_jpeg_80(make: object) -> None:
    original = make()  # type: ignore[operator]
    marked = watermark.embed(original, 0x3F2A9C1E)
    mse = np.mean((np.asarray(marked, float) - np.asarray(original, float)) ** 2)
    assert 10 * np.log10(255**2 / mse) >= 35
    read = watermark.extract(jpeg80(marked))
    assert read is not None and read.hex == "3f2a9c1e"
    assert watermark.extract(original) is None


def test_embedding_is_deterministic() -> None:
    image = scene_image(256)
    assert np.array_equal(
        np.asarray(watermark.embed(image, 12345)), np.asarray(watermark.embed(image, 12345))
    )


def test_too_small_images() -> None:
    small = Image.new("RGB", (64, 64))
    assert not watermark.can_hold(64, 64) and watermark.can_hold(256, 512)
    with pytest.raises(ValueError, match="cannot carry"):
        watermark.embed(small, 1)
    assert watermark.extract(small) is None


def test_library_is_quiet_and_leaves_multiprocessing_alone() -> None:
    """In a fresh interpreter, where blind_watermark is imported (by its wrapper) for the first time."""
    script = (
        "import multiprocessing\n"
        "from PIL import Image\n"
        "import numpy as np\n"
        "from provenance import bwm_library\n"
        "bwm_library.embed(np.full((256, 256, 3), 120, np.uint8), np.ones(48, bool), 1, 1)\n"
        "print(multiprocessing.get_start_method(allow_none=True))\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout == "None\n"


def dark_image(size: int = 512) -> Image.Image:
    """A night-sky-like image: mostly near-black with sparse bright specks and faint colour noise."""
    rng = np.random.default_rng(5)
    base = rng.gamma(0.3, 6, (size, size, 1)) * np.array([1.0, 0.9, 1.2])
    noisy = base + rng.normal(0, 1.5, (size, size, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def test_luma_read_recovers_marks_whose_chroma_jpeg_erased(monkeypatch: pytest.MonkeyPatch) -> None:
    """On dark images JPEG wipes the chroma votes (they lean to 0) and the three-channel read fails;
    the luma votes alone still carry the payload, and extract() falls back to them."""
    marked = watermark.embed(dark_image(), 0x3F2A9C1E)
    buffer = io.BytesIO()
    marked.save(buffer, "JPEG", quality=70)
    attacked = Image.open(io.BytesIO(buffer.getvalue()))
    assert watermark.decode_payload(watermark.extract_soft(attacked, 48) >= 0.5) is None
    assert watermark.decode_payload(watermark.extract_soft_luma(attacked, 48) >= 0.5) == 0x3F2A9C1E
    read = watermark.extract(attacked)
    assert read is not None and read.hex == "3f2a9c1e"
    assert watermark.extract(dark_image()) is None  # unmarked: no false read by either path
    monkeypatch.setattr(watermark, "LUMA_FALLBACK", False)
    assert watermark.extract(attacked) is None
