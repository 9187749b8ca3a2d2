"""An invisible watermark carrying a short job reference, embedded with blind-watermark (DWT-DCT-SVD).

Payload (48 bits): the first 32 bits of the job id (its first 8 hex characters) followed by a CRC-16
of those 32 bits. The CRC tells a real read from noise: an unmarked or damaged image passes it by
chance with probability 1/65,536. A 32-bit reference is not unique: among n jobs the chance that some
two share one is about n²/2³³ (1% at ~9,300 jobs, 50% at ~77,000), so a reference narrows a search to
the job ids starting with those 8 hex characters; the PNG metadata carries the full id. A 64-bit
payload (48-bit reference) was measured and survived JPEG less often (docs/provenance.md).

The embedding is blind-watermark 0.4.4's DWT-DCT-SVD method, run by `dwt_svd` (a vectorised
re-implementation, about six times faster, whose marks the library reads and vice versa; the library
itself is wrapped in `bwm_library` for that check and for comparison runs of the measurement).
Neutral (grey) images are the exception: they are marked in the luma channel alone (about 42 dB of
PSNR instead of 34 to 35), which only Atelier's luma read reads (LUMA_ONLY_WHEN_NEUTRAL).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from PIL import Image

from provenance import dwt_svd

REFERENCE_BITS = 32
REFERENCE_HEX = REFERENCE_BITS // 4
CRC_BITS = 16
PAYLOAD_BITS = REFERENCE_BITS + CRC_BITS
# Below this side length there are too few 4x4 blocks to repeat each bit often enough to survive JPEG.
MIN_SIDE = 256
# Read the luma channel alone when the three-channel read fails its CRC. Each read is one more chance
# for noise to pass the CRC: 2/65,536 per image size tried instead of 1/65,536.
LUMA_FALLBACK = True
# Mark the luma channel alone on neutral (grey) images: those whose chroma blocks are flat, so that a
# chroma mark would be all new signal (coloured noise) costing about 7 dB of PSNR, and which JPEG and
# WebP do not keep anyway. At least this share of the 4x4 low-band blocks must be flat in both chroma
# channels (dwt_svd.flat_share): measured 1.0 on every grey photo, at most 0.31 on colour ones.
# Such marks are read by the luma read only, so never made when LUMA_FALLBACK is off; blind-watermark's
# own reader (three channels) does not read them. `mark` keeps the three-channel mark where the luma
# mark alone does not survive the goal's attacks (full-range grey white noise loses it in a resize).
LUMA_ONLY_WHEN_NEUTRAL = True
NEUTRAL_SHARE = 0.5
_PASSWORD_IMG = 0xA7E1
_PASSWORD_WM = 0x1E12

# blind-watermark's block coder, through either implementation: (bgr, bits, pw_img, pw_wm) -> bgr
Embedder = Callable[[np.ndarray, np.ndarray, int, int], np.ndarray]
Extractor = Callable[[np.ndarray, int, int, int], np.ndarray]
IMPLEMENTATION: tuple[Embedder, Extractor] = (dwt_svd.embed, dwt_svd.extract)


@dataclass(frozen=True)
class WatermarkRead:
    """A payload read back from an image: the reference and how clearly its bits were read."""

    reference: int
    margin: float  # mean distance of the soft bits from the 0.5 threshold (0: noise, 0.5: perfect)

    @property
    def hex(self) -> str:
        return f"{self.reference:0{REFERENCE_HEX}x}"


def job_reference(job_id: str) -> int:
    """The reference of a job: the first 8 hex characters (32 bits) of its id."""
    return int(job_id[:REFERENCE_HEX], 16)


def crc16(value: int, bits: int = REFERENCE_BITS) -> int:
    """CRC-16/CCITT-FALSE of an integer's big-endian bytes."""
    crc = 0xFFFF
    for byte in value.to_bytes(bits // 8, "big"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def encode_payload(reference: int) -> np.ndarray:
    """The bits embedded for a reference: reference then CRC, most significant bit first."""
    word = (reference << CRC_BITS) | crc16(reference)
    return np.array([(word >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)], dtype=bool)


def decode_payload(bits: np.ndarray) -> int | None:
    """The reference in the read payload bits, or None when the CRC does not match."""
    word = 0
    for bit in bits.astype(bool).tolist():
        word = (word << 1) | int(bit)
    reference, crc = word >> CRC_BITS, word & ((1 << CRC_BITS) - 1)
    return reference if crc16(reference) == crc else None


def can_hold(width: int, height: int) -> bool:
    """Whether an image of this size is large enough to carry the watermark."""
    return min(width, height) >= MIN_SIDE


def _to_bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def is_neutral(image: Image.Image) -> bool:
    """Whether this is a neutral (grey) image, which `embed` tries to mark in the luma channel alone
    (see LUMA_ONLY_WHEN_NEUTRAL). Always False when the luma read (LUMA_FALLBACK) is off."""
    if not (LUMA_ONLY_WHEN_NEUTRAL and LUMA_FALLBACK):
        return False
    return dwt_svd.flat_share(_to_bgr(image), _PASSWORD_IMG) >= NEUTRAL_SHARE


def _rgb(bgr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(bgr[:, :, ::-1]), 0, 255).astype(np.uint8), "RGB")


def _goal_attacks(image: Image.Image) -> Iterator[Image.Image]:
    """The attacks the watermark is built for: JPEG quality 80, and a resize to 75% and back."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    yield Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    small = (round(image.width * 0.75), round(image.height * 0.75))
    yield image.resize(small, Image.Resampling.LANCZOS).resize(image.size, Image.Resampling.LANCZOS)


class Marked(NamedTuple):
    image: Image.Image
    luma_only: bool  # marked in the luma channel alone


def mark(image: Image.Image, bits: np.ndarray) -> Marked:
    """`image` (RGB) carrying raw bits, and whether the mark is in the luma channel alone.

    A neutral image (`is_neutral`) is marked in the luma channel alone, through `dwt_svd`, if that
    mark survives the goal's attacks (JPEG q80, the 75% resize) on this image; every other image,
    and a neutral one whose luma cannot carry the mark (full-range grey white noise), in all three
    YUV channels through IMPLEMENTATION, as blind-watermark marks them.
    """
    if not can_hold(*image.size):
        raise ValueError(f"images under {MIN_SIDE}x{MIN_SIDE} pixels cannot carry the watermark")
    bgr, payload = _to_bgr(image), np.asarray(bits, dtype=bool)
    if is_neutral(image):
        luma = _rgb(dwt_svd.embed(bgr, payload, _PASSWORD_IMG, _PASSWORD_WM, channels=(0,)))
        if all(
            np.array_equal(extract_soft_luma(attacked, len(payload)) >= 0.5, payload)
            for attacked in _goal_attacks(luma)
        ):
            return Marked(luma, True)
    return Marked(_rgb(IMPLEMENTATION[0](bgr, payload, _PASSWORD_IMG, _PASSWORD_WM)), False)


def embed_bits(image: Image.Image, bits: np.ndarray) -> Image.Image:
    """A copy of `image` (RGB) carrying raw bits (no error detection); ValueError if it is too small.
    Neutral images get a luma-only mark where it survives (`mark`)."""
    return mark(image, bits).image


def extract_soft(image: Image.Image, count: int) -> np.ndarray:
    """`count` soft bits read from an image: 0..1, read as 1 at or above 0.5."""
    return IMPLEMENTATION[1](_to_bgr(image), count, _PASSWORD_IMG, _PASSWORD_WM)


def embed(image: Image.Image, reference: int) -> Image.Image:
    """A copy of `image` (RGB) carrying `reference`; ValueError if the image is too small."""
    if not 0 <= reference < 2**REFERENCE_BITS:
        raise ValueError(f"the reference must fit in {REFERENCE_BITS} bits")
    return embed_bits(image, encode_payload(reference))


def extract_soft_luma(image: Image.Image, count: int) -> np.ndarray:
    """`count` soft bits read from the luma (Y) channel alone; always through `dwt_svd`."""
    return dwt_svd.extract(_to_bgr(image), count, _PASSWORD_IMG, _PASSWORD_WM, channels=(0,))


def extract(image: Image.Image) -> WatermarkRead | None:
    """The reference carried by `image`, or None when there is none (or it did not survive).

    First blind-watermark's own read (the votes of all three YUV channels); when its CRC fails and
    LUMA_FALLBACK is on, a second read of the luma votes alone. JPEG and WebP subsample and coarsely
    quantise the chroma channels, and on dark or grey images their votes lean to 0, outvoting an
    intact luma mark (docs/provenance.md, "Real photographs"). The luma read is also the one that
    reads the luma-only marks of neutral (grey) images, where the chroma votes are all 0.
    """
    if not can_hold(*image.size):
        return None
    reads = [extract_soft] + ([extract_soft_luma] if LUMA_FALLBACK else [])
    for read in reads:
        soft = read(image, PAYLOAD_BITS)
        reference = decode_payload(soft >= 0.5)
        if reference is not None:
            return WatermarkRead(reference=reference, margin=float(np.mean(np.abs(soft - 0.5))))
    return None
