"""The invisible watermark: payload coding, survival of JPEG 80, and its side effects."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from provenance import dwt_svd, watermark
from provenance.measure import jpeg, psnr, resized_back, webp
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


def grey(image: Image.Image) -> Image.Image:
    """The image in neutral grey, as RGB with R = G = B."""
    return image.convert("L").convert("RGB")


def flat_grey_image(size: int = 512) -> Image.Image:
    """A nearly flat grey image: a faint vignette and fine grain, like an overcast sky or a wall."""
    rng = np.random.default_rng(11)
    y, x = np.mgrid[0:size, 0:size] / size
    shade = 150 - 30 * ((x - 0.5) ** 2 + (y - 0.5) ** 2) + rng.normal(0, 1.0, (size, size))
    return Image.fromarray(np.repeat(np.clip(np.rint(shade), 0, 255).astype(np.uint8)[..., None], 3, 2))


@pytest.mark.parametrize("make", [lambda: grey(scene_image()), flat_grey_image])
def test_grey_images_get_a_luma_only_mark(make: object) -> None:
    """A grey image's chroma channels are flat: a chroma mark would be coloured noise costing about
    7 dB, and JPEG keeps none of it. The luma mark alone keeps the image grey and ≥ 35 dB, and is read
    back exactly after JPEG q80 and a 75% resize."""
    image = make()  # type: ignore[operator]
    assert watermark.is_neutral(image)
    marked, luma_only = watermark.mark(image, watermark.encode_payload(0x3F2A9C1E))
    assert luma_only
    assert np.array_equal(np.asarray(marked), np.asarray(watermark.embed(image, 0x3F2A9C1E)))
    pixels = np.asarray(marked)
    assert np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 1], pixels[..., 2])
    assert psnr(image, marked) >= 40
    for attack in (lambda i: i, jpeg, resized_back, lambda i: jpeg(i, 70), webp):
        read = watermark.extract(attack(marked))
        assert read is not None and read.hex == "3f2a9c1e"
    assert watermark.extract(image) is None


def test_grey_mark_costs_less_than_the_three_channel_one(monkeypatch: pytest.MonkeyPatch) -> None:
    image = flat_grey_image()
    luma = psnr(image, watermark.embed(image, 0x3F2A9C1E))
    monkeypatch.setattr(watermark, "LUMA_ONLY_WHEN_NEUTRAL", False)
    assert not watermark.is_neutral(image)
    full = psnr(image, watermark.embed(image, 0x3F2A9C1E))
    assert full < 35.5 and luma > full + 5


@pytest.mark.parametrize("make", [gradient_image, scene_image])
def test_colour_images_keep_the_three_channel_mark(make: object) -> None:
    """Colour images are marked exactly as before (and as blind-watermark marks them)."""
    image = make()  # type: ignore[operator]
    assert not watermark.is_neutral(image)
    keys = (watermark._PASSWORD_IMG, watermark._PASSWORD_WM)
    three = dwt_svd.embed(watermark._to_bgr(image), watermark.encode_payload(0x3F2A9C1E), *keys)
    expected = np.clip(np.rint(three[:, :, ::-1]), 0, 255).astype(np.uint8)
    assert np.array_equal(np.asarray(watermark.embed(image, 0x3F2A9C1E)), expected)


def test_a_tinted_image_is_not_neutral() -> None:
    """Sepia: chroma proportional to brightness, never flat at neutral, so all three channels."""
    shade = np.asarray(grey(scene_image()), float) / 255
    sepia = np.clip(shade * np.array([255, 220, 170]), 0, 255).astype(np.uint8)
    assert not watermark.is_neutral(Image.fromarray(sepia, "RGB"))


def test_no_luma_only_mark_without_the_luma_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the luma read nothing would read a luma-only mark, so none is made."""
    image = flat_grey_image()
    monkeypatch.setattr(watermark, "LUMA_FALLBACK", False)
    assert not watermark.is_neutral(image)
    read = watermark.extract(watermark.embed(image, 0x3F2A9C1E))
    assert read is not None and read.hex == "3f2a9c1e"


def test_library_does_not_read_a_grey_luma_only_mark() -> None:
    """The trade-off: blind-watermark's reader averages all three channels, and on a grey image the
    unmarked chroma channels vote 0 for every bit, so it cannot read Atelier's luma-only mark. Atelier
    still reads the library's own three-channel mark on a grey image, after JPEG q80 too."""
    from provenance import bwm_library

    image, keys = flat_grey_image(), (watermark._PASSWORD_IMG, watermark._PASSWORD_WM)
    bits = watermark.encode_payload(0x3F2A9C1E)
    ours = watermark._to_bgr(watermark.embed(image, 0x3F2A9C1E))
    assert watermark.decode_payload(bwm_library.extract(ours, 48, *keys) >= 0.5) is None
    theirs = bwm_library.embed(watermark._to_bgr(image), bits, *keys)
    theirs_image = Image.fromarray(np.clip(np.rint(theirs[:, :, ::-1]), 0, 255).astype(np.uint8), "RGB")
    for candidate in (theirs_image, jpeg(theirs_image)):
        read = watermark.extract(candidate)
        assert read is not None and read.hex == "3f2a9c1e"


def test_grey_white_noise_keeps_the_three_channel_mark() -> None:
    """Full-range grey white noise is neutral, but a resize to 75% erases the luma mark there (the
    chroma mark, a change of flat blocks' means, survives it): `mark` checks and keeps all three."""
    rng = np.random.default_rng(2)
    noise = Image.fromarray(np.repeat(rng.integers(0, 256, (256, 256, 1), dtype=np.uint8), 3, axis=2))
    assert watermark.is_neutral(noise)
    marked, luma_only = watermark.mark(noise, watermark.encode_payload(0x3F2A9C1E))
    assert not luma_only
    read = watermark.extract(resized_back(marked))
    assert read is not None and read.hex == "3f2a9c1e"


def with_chroma_noise(image: Image.Image, sigma: float, seed: int = 4) -> Image.Image:
    """The image with Gaussian noise of `sigma` levels added to its U and V channels (luma kept)."""
    rng = np.random.default_rng(seed)
    u, v = rng.normal(0, sigma, (2, image.height, image.width))
    rgb = np.asarray(image, float) + np.stack([1.14 * v, -0.395 * u - 0.581 * v, 2.032 * u], axis=-1)
    return Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")


@pytest.mark.parametrize(("sigma", "neutral"), [(1.0, True), (5.0, False)])
def test_nearly_grey_images_stay_over_35_db(sigma: float, neutral: bool) -> None:
    """Faint chroma noise (as a generated "black and white" image may have) is still neutral; stronger
    chroma gives the three-channel mark something to ride on, and it stays over 35 dB."""
    image = with_chroma_noise(flat_grey_image(), sigma)
    marked, luma_only = watermark.mark(image, watermark.encode_payload(0x3F2A9C1E))
    assert luma_only == neutral
    assert psnr(image, marked) >= 35
    read = watermark.extract(jpeg(marked))
    assert read is not None and read.hex == "3f2a9c1e"
