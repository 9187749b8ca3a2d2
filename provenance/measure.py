"""Measure the watermark: recovery after JPEG 80 and after a 75% resize, PSNR, time to embed.

    python -m provenance.measure [--count 120] [--size 512] [--seed 0]
    python -m provenance.measure --raw-bits 48,64,96,128 [--count 50]
    add --library to run blind-watermark itself instead of the vectorised dwt_svd

Synthesises varied test images (gradients, noise textures, shapes, text, photo-like mixtures),
embeds a random job reference in each and reads it back after each attack. Prints a Markdown
summary (the figures in docs/provenance.md come from this script). With --raw-bits it instead
embeds random bit strings of each length (no CRC) and counts exact recoveries: how much the
watermark could carry.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from provenance import bwm_library, watermark

Synth = Callable[[np.random.Generator, int], Image.Image]


def _gradient(rng: np.random.Generator, size: int) -> Image.Image:
    y, x = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, np.pi)
    t = np.cos(angle) * x + np.sin(angle) * y
    if rng.random() < 0.5:
        t = np.hypot(x - rng.random(), y - rng.random())
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = (t - t.min()) / (np.ptp(t) or 1.0)
    return Image.fromarray((a + (b - a) * t[..., None]).astype(np.uint8), "RGB")


def _texture(rng: np.random.Generator, size: int) -> Image.Image:
    octaves = np.zeros((size, size, 3))
    for level in range(int(rng.integers(1, 6))):
        cells = 2 ** (level + 2)
        coarse = rng.uniform(0, 255, (cells, cells, 3)).astype(np.uint8)
        layer = Image.fromarray(coarse, "RGB").resize((size, size), Image.Resampling.BICUBIC)
        octaves += np.asarray(layer, float) / 2**level
    octaves = octaves / octaves.max() * 255
    grain = rng.normal(0, rng.uniform(0, 25), (size, size, 3))
    return Image.fromarray(np.clip(octaves + grain, 0, 255).astype(np.uint8), "RGB")


def _shapes(rng: np.random.Generator, size: int) -> Image.Image:
    image = _gradient(rng, size)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 25))):
        box = sorted(rng.integers(0, size, 2).tolist()), sorted(rng.integers(0, size, 2).tolist())
        xy = (box[0][0], box[1][0], box[0][1] + 1, box[1][1] + 1)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = rng.integers(0, 3)
        if kind == 0:
            draw.rectangle(xy, fill=colour)
        elif kind == 1:
            draw.ellipse(xy, fill=colour)
        else:
            points = [tuple(int(v) for v in rng.integers(0, size, 2)) for _ in range(int(rng.integers(3, 7)))]
            draw.polygon(points, fill=colour)
    return image


def _text(rng: np.random.Generator, size: int) -> Image.Image:
    light = rng.random() < 0.5
    image = Image.new("RGB", (size, size), (245, 242, 235) if light else (20, 24, 30))
    draw = ImageDraw.Draw(image)
    words = [
        "atelier",
        "reel",
        "jig",
        "prompt",
        "canvas",
        "melody",
        "sketch",
        "poem",
        "render",
        "colour",
        "light",
        "shadow",
    ]
    y = int(rng.integers(0, 20))
    while y < size:
        font_size = int(rng.integers(10, 48))
        line = " ".join(rng.choice(words, int(rng.integers(2, 8))).tolist())
        draw.text(
            (int(rng.integers(0, 40)), y),
            line,
            fill=(30, 30, 30) if light else (230, 230, 220),
            font_size=font_size,
        )
        y += font_size + int(rng.integers(2, 20))
    return image


def _photo_like(rng: np.random.Generator, size: int) -> Image.Image:
    base = Image.blend(_texture(rng, size), _shapes(rng, size), float(rng.uniform(0.2, 0.8)))
    base = base.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 3))))
    noise = rng.normal(0, rng.uniform(1, 8), (size, size, 3))
    return Image.fromarray(np.clip(np.asarray(base, float) + noise, 0, 255).astype(np.uint8), "RGB")


SYNTHS: dict[str, Synth] = {
    "gradient": _gradient,
    "texture": _texture,
    "shapes": _shapes,
    "text": _text,
    "photo-like": _photo_like,
}


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB (inf for identical images)."""
    mse = float(np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def jpeg(image: Image.Image, quality: int = 80) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def resized_back(image: Image.Image, scale: float = 0.75) -> Image.Image:
    small = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    return small.resize(image.size, Image.Resampling.LANCZOS)


@dataclass
class Row:
    kind: str
    psnr: float
    embed_s: float
    clean: bool
    jpeg80: bool
    resize75: bool
    unmarked_false_positive: bool


def measure_one(kind: str, image: Image.Image, reference: int) -> Row:
    start = time.perf_counter()
    marked = watermark.embed(image, reference)
    embed_s = time.perf_counter() - start

    def ok(candidate: Image.Image) -> bool:
        read = watermark.extract(candidate)
        return read is not None and read.reference == reference

    return Row(
        kind=kind,
        psnr=psnr(image, marked),
        embed_s=embed_s,
        clean=ok(marked),
        jpeg80=ok(jpeg(marked)),
        resize75=ok(resized_back(marked)),
        unmarked_false_positive=watermark.extract(image) is not None,
    )


def _share(rows: list[Row], field: str) -> str:
    hits = sum(bool(getattr(r, field)) for r in rows)
    return f"{hits}/{len(rows)} ({100 * hits / len(rows):.1f}%)"


def summary(rows: list[Row]) -> str:
    """A Markdown table per image kind and overall."""
    lines = [
        "| images | n | clean | JPEG q80 | resize 75% and back | PSNR min / median dB | embed s (median) "
        "| false reads on unmarked |",
        "|---|---|---|---|---|---|---|---|",
    ]
    groups = {kind: [r for r in rows if r.kind == kind] for kind in SYNTHS} | {"all": rows}
    for kind, group in groups.items():
        if not group:
            continue
        psnrs = [r.psnr for r in group]
        lines.append(
            f"| {kind} | {len(group)} | {_share(group, 'clean')} | {_share(group, 'jpeg80')} "
            f"| {_share(group, 'resize75')} | {min(psnrs):.1f} / {float(np.median(psnrs)):.1f} "
            f"| {float(np.median([r.embed_s for r in group])):.2f} | {_share(group, 'unmarked_false_positive')} |"
        )
    return "\n".join(lines)


def capacity(lengths: list[int], count: int, size: int, seed: int) -> str:
    """Exact recovery of random raw bit strings of each length, as a Markdown table."""
    rng = np.random.default_rng(seed)
    kinds = list(SYNTHS)
    images = [SYNTHS[kinds[i % len(kinds)]](rng, size) for i in range(count)]
    lines = [
        "| bits | clean | JPEG q80 | resize 75% and back | worst bit errors (JPEG / resize) |",
        "|---|---|---|---|---|",
    ]
    for length in lengths:
        hits = {"clean": 0, "jpeg": 0, "resize": 0}
        worst = {"jpeg": 0, "resize": 0}
        for image in images:
            bits = rng.integers(0, 2, length).astype(bool)
            marked = watermark.embed_bits(image, bits)
            for name, attacked in (
                ("clean", marked),
                ("jpeg", jpeg(marked)),
                ("resize", resized_back(marked)),
            ):
                errors = int(np.sum((watermark.extract_soft(attacked, length) >= 0.5) != bits))
                hits[name] += errors == 0
                if name in worst:
                    worst[name] = max(worst[name], errors)
        lines.append(
            f"| {length} | {hits['clean']}/{count} | {hits['jpeg']}/{count} | {hits['resize']}/{count} "
            f"| {worst['jpeg']} / {worst['resize']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--library", action="store_true", help="use blind-watermark itself, not dwt_svd")
    parser.add_argument("--below-minimum", action="store_true", help="also mark images under MIN_SIDE")
    parser.add_argument("--raw-bits", help="comma-separated payload lengths to test instead, e.g. 48,64,96")
    args = parser.parse_args(argv)
    if args.library:
        watermark.IMPLEMENTATION = (bwm_library.embed, bwm_library.extract)
    if args.below_minimum:
        watermark.MIN_SIDE = 16  # measurement only: how the watermark fares below the production minimum
    if args.raw_bits:
        started = time.perf_counter()
        table = capacity([int(n) for n in args.raw_bits.split(",")], args.count, args.size, args.seed)
        print(
            f"{args.count} images at {args.size}x{args.size}, seed {args.seed}, "
            f"{time.perf_counter() - started:.0f} s in all\n"
        )
        print(table)
        return
    rng = np.random.default_rng(args.seed)
    kinds = list(SYNTHS)
    rows = []
    started = time.perf_counter()
    for index in range(args.count):
        kind = kinds[index % len(kinds)]
        image = SYNTHS[kind](rng, args.size)
        rows.append(measure_one(kind, image, int(rng.integers(0, 2**watermark.REFERENCE_BITS))))
    print(
        f"{args.count} images at {args.size}x{args.size}, seed {args.seed}, "
        f"{time.perf_counter() - started:.0f} s in all\n"
    )
    print(summary(rows))
    failures = [f"{i}:{r.kind}" for i, r in enumerate(rows) if not (r.clean and r.jpeg80 and r.resize75)]
    print("\nimages with a failed read:", ", ".join(failures) or "none")


if __name__ == "__main__":
    main()
