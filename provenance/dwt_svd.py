"""blind-watermark 0.4.4's DWT-DCT-SVD embed and extract, vectorised over all 4x4 blocks.

Same algorithm, parameters and key schedule as the library's `WaterMark(mode="common")` (its
`block_add_wm_slow` / `block_get_wm_slow`), so files marked by either are read by either; the
library runs a Python loop per block and takes about 0.5 s per 512x512 image, this about a tenth of
that. tests/provenance/test_dwt_svd.py checks the equivalence against the library itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import pywt

D1, D2 = 36, 20  # quantisation steps of the first two singular values
BLOCK = 4


def _dct_matrix() -> np.ndarray:
    k, n = np.mgrid[0:BLOCK, 0:BLOCK]
    matrix = np.sqrt(2 / BLOCK) * np.cos(np.pi * (2 * n + 1) * k / (2 * BLOCK))
    matrix[0] /= np.sqrt(2)
    return matrix.astype(np.float32)


_C = _dct_matrix()


def _shuffle_order(password_img: int, blocks: int) -> np.ndarray:
    """The per-block coefficient permutation (the library's random_strategy1)."""
    return np.random.RandomState(password_img).random(size=(blocks, BLOCK * BLOCK)).argsort(axis=1)


def _bit_order(password_wm: int, count: int) -> np.ndarray:
    """Where each payload bit goes (the library shuffles the bits with this permutation)."""
    index = np.arange(count)
    np.random.RandomState(password_wm).shuffle(index)
    return index


def _planes(bgr: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Float32 YUV planes padded to even sides, and the original (height, width)."""
    image = bgr.astype(np.float32)
    height, width = image.shape[:2]
    yuv = cv2.copyMakeBorder(
        cv2.cvtColor(image, cv2.COLOR_BGR2YUV),
        0,
        height % 2,
        0,
        width % 2,
        cv2.BORDER_CONSTANT,
        value=(0, 0, 0),
    )
    return yuv, (height, width)


def _to_blocks(ca: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    rows, cols = ca.shape[0] // BLOCK, ca.shape[1] // BLOCK
    body = ca[: rows * BLOCK, : cols * BLOCK].astype(np.float32)
    return body.reshape(rows, BLOCK, cols, BLOCK).transpose(0, 2, 1, 3).reshape(-1, BLOCK, BLOCK), (
        rows,
        cols,
    )


def _shuffled_dct(blocks: np.ndarray, order: np.ndarray) -> np.ndarray:
    coefficients = (_C @ blocks @ _C.T).reshape(len(blocks), -1)
    return np.take_along_axis(coefficients, order, axis=1).reshape(-1, BLOCK, BLOCK)


def capacity(height: int, width: int) -> int:
    """How many 4x4 blocks (so, at most, payload bits) an image of this size has."""
    return (((height + 1) // 2) // BLOCK) * (((width + 1) // 2) // BLOCK)


def flat_share(bgr: np.ndarray, password_img: int, channels: tuple[int, ...] = (1, 2)) -> float:
    """The share of 4x4 low-band blocks whose largest singular value lies below D1 / 4 in every one
    of `channels` (default: the two chroma channels).

    D1 / 4 is the quantiser's lowest level: a block below it holds (nearly) nothing for the mark to
    ride on, so marking it adds the whole mark as new signal, from (0, 0) to (9 or 27, 5 or 15), about
    twice the average cost of a block whose singular values fall anywhere in their cells. On a grey
    image (R = G = B) every chroma block is flat (its singular values are about 4 and 0).
    """
    flat: np.ndarray | None = None
    for s in _block_singular_values(bgr, password_img, channels):
        below = s[:, 0] < D1 / 4
        flat = below if flat is None else flat & below
    return float(np.mean(flat)) if flat is not None else 0.0


def _block_singular_values(
    bgr: np.ndarray, password_img: int, channels: tuple[int, ...]
) -> Iterator[np.ndarray]:
    """Per channel, the singular values of each shuffled 4x4 DCT block of the low band, as read."""
    yuv, _ = _planes(bgr)
    order: np.ndarray | None = None
    for channel in channels:
        ca, _details = pywt.dwt2(yuv[:, :, channel], "haar")
        blocks, _shape = _to_blocks(ca)
        if order is None:
            order = _shuffle_order(password_img, len(blocks))
        yield np.linalg.svd(_shuffled_dct(blocks, order), compute_uv=False)


def embed(
    bgr: np.ndarray,
    bits: np.ndarray,
    password_img: int,
    password_wm: int,
    channels: tuple[int, ...] = (0, 1, 2),
) -> np.ndarray:
    """The BGR image (uint8 or float) with `bits` embedded, as float BGR clipped to 0..255.

    The library marks all three YUV channels (the default); `channels=(0,)` marks the luma channel
    alone and leaves the chroma planes as they are (read back by `extract(..., channels=(0,))`).
    """
    yuv, (height, width) = _planes(bgr)
    payload = np.asarray(bits, dtype=bool)[_bit_order(password_wm, len(bits))]
    planes = []
    order: np.ndarray | None = None
    for channel in range(3):
        if channel not in channels:
            planes.append(yuv[:, :, channel])
            continue
        ca, details = pywt.dwt2(yuv[:, :, channel], "haar")
        blocks, (rows, cols) = _to_blocks(ca)
        if len(payload) >= len(blocks):
            raise ValueError(
                f"the image holds {len(blocks)} blocks, fewer than the {len(payload)} payload bits"
            )
        if order is None:
            order = _shuffle_order(password_img, len(blocks))
        wm = payload[np.arange(len(blocks)) % len(payload)].astype(np.float32)
        u, s, v = np.linalg.svd(_shuffled_dct(blocks, order))
        s[:, 0] = (s[:, 0] // D1 + 0.25 + 0.5 * wm) * D1
        s[:, 1] = (s[:, 1] // D2 + 0.25 + 0.5 * wm) * D2
        marked = (u @ (s[:, :, None] * v)).reshape(len(blocks), -1)
        unshuffled = np.empty_like(marked)
        np.put_along_axis(unshuffled, order, marked, axis=1)
        spatial = _C.T @ unshuffled.reshape(-1, BLOCK, BLOCK) @ _C
        body = (
            spatial.reshape(rows, cols, BLOCK, BLOCK)
            .transpose(0, 2, 1, 3)
            .reshape(rows * BLOCK, cols * BLOCK)
        )
        new_ca = ca.copy()
        new_ca[: rows * BLOCK, : cols * BLOCK] = body
        planes.append(pywt.idwt2((new_ca, details), "haar"))
    yuv_marked = np.stack(planes, axis=2)[:height, :width].astype(np.float32)
    return np.clip(cv2.cvtColor(yuv_marked, cv2.COLOR_YUV2BGR), 0, 255)


def extract(
    bgr: np.ndarray, count: int, password_img: int, password_wm: int, channels: tuple[int, ...] = (0, 1, 2)
) -> np.ndarray:
    """`count` soft bits (0..1; 1 at or above 0.5) read from a BGR image.

    The library averages the votes of all three YUV channels (the default); `channels=(0,)` reads
    the luma channel alone, which JPEG and WebP keep better than the chroma ones.
    """
    votes = [
        ((s[:, 0] % D1 > D1 / 2) * 3 + (s[:, 1] % D2 > D2 / 2) * 1) / 4
        for s in _block_singular_values(bgr, password_img, channels)
    ]
    per_block = np.stack(votes)  # (channels, blocks)
    blocks_count = per_block.shape[1]
    if count >= blocks_count:
        raise ValueError(f"the image holds {blocks_count} blocks, fewer than the {count} payload bits")
    averaged = np.array([per_block[:, i::count].mean() for i in range(count)])
    soft = np.empty(count)
    soft[_bit_order(password_wm, count)] = averaged
    return soft
