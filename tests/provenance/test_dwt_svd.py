"""The vectorised DWT-DCT-SVD coder against blind-watermark 0.4.4 itself."""

from __future__ import annotations

import cv2
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


def test_luma_only_embed_leaves_the_chroma_alone() -> None:
    image = scene_image(256)
    bits = watermark.encode_payload(0x5EED1234)
    marked = dwt_svd.embed(bgr(image), bits, *KEYS, channels=(0,))
    yuv = cv2.cvtColor(bgr(image).astype(np.float32), cv2.COLOR_BGR2YUV)
    yuv_marked = cv2.cvtColor(marked.astype(np.float32), cv2.COLOR_BGR2YUV)
    unclipped = (marked > 0).all(axis=2) & (marked < 255).all(axis=2)
    # Chroma as before, to OpenCV's YUV round trip (its coefficients are rounded) and the clipping.
    assert np.allclose(yuv_marked[unclipped][:, 1:], yuv[unclipped][:, 1:], atol=0.05)
    assert not np.allclose(yuv_marked[..., 0], yuv[..., 0], atol=1)
    assert np.array_equal(dwt_svd.extract(marked, 48, *KEYS, channels=(0,)) >= 0.5, bits)


def test_flat_share() -> None:
    """Grey: every chroma block is flat (singular values about 4 and 0); colour: almost none."""
    grey = np.repeat(np.asarray(scene_image(256).convert("L"))[..., None], 3, axis=2)
    assert dwt_svd.flat_share(grey, KEYS[0]) == 1.0
    assert dwt_svd.flat_share(bgr(scene_image(256)), KEYS[0]) < 0.1
    assert dwt_svd.flat_share(grey, KEYS[0], channels=(0,)) < 0.5  # its luma is not flat
