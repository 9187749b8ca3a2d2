"""Shared helpers: a job, its provenance record, and a couple of 512x512 test images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from provenance import provenance_record
from wire.contract import MusicJob


@pytest.fixture
def record() -> dict[str, object]:
    job = MusicJob.model_validate({"id": "3f2a9c1e7b44" + "0" * 20, "options": {"seed": 42}})
    return provenance_record(job, "atelier-folk", 42, preset="atelier-folk")


def gradient_image(size: int = 512) -> Image.Image:
    y, x = np.mgrid[0:size, 0:size]
    rgb = np.stack([x * 255 / size, y * 255 / size, (x + y) * 127 / size], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def scene_image(size: int = 512) -> Image.Image:
    rng = np.random.default_rng(3)
    image = gradient_image(size).rotate(90)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = (int(v) for v in rng.integers(0, size - 60, 2))
        draw.ellipse((x0, y0, x0 + 60, y0 + 40), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw.text((20, 20), "Atelier test scene", fill=(0, 0, 0), font_size=32)
    return image
