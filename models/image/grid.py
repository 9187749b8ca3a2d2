"""Several images of one size as one grid image."""

from __future__ import annotations

import math

from PIL import Image


def make_grid(images: list[Image.Image], gap: int = 0) -> Image.Image:
    """Images laid out in a near-square grid (2 side by side, 3 or 4 in two rows), left to right."""
    if not images:
        raise ValueError("a grid needs at least one image")
    width, height = images[0].size
    columns = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    grid = Image.new(
        "RGB", (columns * width + (columns - 1) * gap, rows * height + (rows - 1) * gap), "white"
    )
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid.paste(image, (column * (width + gap), row * (height + gap)))
    return grid
