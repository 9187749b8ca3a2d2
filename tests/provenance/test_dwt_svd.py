"""The vectorised DWT-DCT-SVD coder against blind-watermark 0.4.4 itself."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from provenance import bwm_library, dwt_svd, watermark
from provenance.measure import jpeg, psnr
from tests.provenance.conftest import gradient_image, scene_image

KEYS = (watermark._PASSWORD_IMG, watermark._PASSWORD_WM)


def bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


def as_image(array: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(array[:, :, ::-1]), 0, 255).astype(np.uint8), "RGB")


@pytest.mark.parametrize(("make", "size"), [(gradient_image, (512, 512)), (scene_image, (301, 257))])
def test_each_reads_the_others_mark(make: object, size: tuple[int, int]) -> None:
    image = make().crop((0, 0, *size))  # type: ignore[operator]
    bits = watermark.encode_payload(0x5EED1234)
    by_library = as_image(bwm_library.embed(bgr(image), bits, *KEYS))
    by_us = as_image(dwt_svd.embed(bgr(image), bits, *KEYS))
    assert np.array_equal(bwm_library.extract(bgr(jpeg(by_us)), 48, *KEYS) >= 0.5, bits)
    assert np.array_equal(dwt_svd.extract(bgr(jpeg(by_library)), 48, *KEYS) >= 0.5, bits)
    for marked in (by_library, jpeg(by_us), image):
        ours = dwt_svd.extract(bgr(marked), 48, *KEYS)
        assert np.allclose(ours, bwm_library.extract(bgr(marked), 48, *KEYS))
    assert psnr(image, by_us) >= 35


def test_textured_images_embed_alike() -> None:
    """Where blocks are not flat the two agree to the pixel rounding; flat blocks have no unique SVD."""
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(40, 215, (256, 256, 3), dtype=np.uint8), "RGB")
    bits = watermark.encode_payload(42)
    ours = np.asarray(as_image(dwt_svd.embed(bgr(noisy), bits, *KEYS)), dtype=int)
    theirs = np.asarray(as_image(bwm_library.embed(bgr(noisy), bits, *KEYS)), dtype=int)
    assert np.abs(ours - theirs).max() <= 1


def test_too_many_bits() -> None:
    with pytest.raises(ValueError, match="blocks"):
        dwt_svd.embed(np.zeros((32, 32, 3), np.uint8), np.ones(64, bool), *KEYS)
    assert dwt_svd.capacity(32, 32) == 16
