"""Measure the watermark: recovery after JPEG 80 and after a 75% resize, PSNR, time to embed.

    python -m provenance.measure [--count 120] [--size 512] [--seed 0]
    python -m provenance.measure --set photos [--count 120] [--size 512|768|1024|768x512] [--seed 0]
    python -m provenance.measure --set noise [--count 60]
    python -m provenance.measure --set folder --folder DIR [--count 100]   (e.g. unmarked model outputs)
    python -m provenance.measure --raw-bits 48,64,96,128 [--count 50]
    add --library to run blind-watermark itself instead of the vectorised dwt_svd
    add --no-luma-only to mark grey images in all three channels as well (as before the luma-only marks)

Image sets (--set): "synthetic" synthesises varied test images (gradients, noise textures, shapes,
text, photo-like mixtures); "photos" cuts images from real photographs that scikit-image and
matplotlib ship inside their wheels (see PHOTO_SOURCES; no download); "noise" is white noise of
several kinds, the watermark's known weak spot; "folder" reads the images of a folder at their own
sizes (outputs of a real model, saved before stamping). Each image gets a random job reference, which is
read back after each attack. Prints a Markdown summary (the figures in docs/provenance.md come from
this script). With --raw-bits it instead embeds random bit strings of each length (no CRC) and
counts exact recoveries: how much the watermark could carry.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

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


Size = tuple[int, int]  # (width, height)


@dataclass(frozen=True)
class PhotoSource:
    """A real photograph (or micrograph) shipped inside a package's wheel: no download at run time."""

    name: str
    package: str  # an importable package; its directory is found without importing it
    path: str  # inside the package's directory
    licence: str
    grey: bool = False  # a one-channel image, measured as RGB with R = G = B


# The bundled images of scikit-image 0.26 (skimage/data, the ones it ships without pooch) and
# matplotlib's sample data; licences as their docstrings and origins state them.
PHOTO_SOURCES: tuple[PhotoSource, ...] = (
    PhotoSource("astronaut", "skimage", "data/astronaut.png", "public domain (NASA)"),
    PhotoSource("chelsea", "skimage", "data/chelsea.png", "CC0 (Stefan van der Walt)"),
    PhotoSource("coffee", "skimage", "data/coffee.png", "CC0 (Rachel Michetti)"),
    PhotoSource("rocket", "skimage", "data/rocket.jpg", "public domain (SpaceX)"),
    PhotoSource("hubble", "skimage", "data/hubble_deep_field.jpg", "public domain (NASA)"),
    PhotoSource("retina", "skimage", "data/retina.jpg", "CC0 (Mikael Häggström)"),
    PhotoSource("ihc", "skimage", "data/ihc.png", "no known copyright restrictions (CMMI)"),
    PhotoSource(
        "grace_hopper",
        "matplotlib",
        "mpl-data/sample_data/grace_hopper.jpg",
        "public domain (US Navy portrait)",
    ),
    PhotoSource("camera", "skimage", "data/camera.png", "CC0 (Lav Varshney)", grey=True),
    PhotoSource(
        "coins", "skimage", "data/coins.png", "no known copyright restrictions (Brooklyn Museum)", grey=True
    ),
    PhotoSource("brick", "skimage", "data/brick.png", "CC0 (CC0Textures)", grey=True),
    PhotoSource("grass", "skimage", "data/grass.png", "CC0 (linolafett)", grey=True),
    PhotoSource("gravel", "skimage", "data/gravel.png", "CC0 (CC0Textures)", grey=True),
    PhotoSource(
        "clock", "skimage", "data/clock_motion.png", "public domain (Stefan van der Walt)", grey=True
    ),
    PhotoSource("cell", "skimage", "data/cell.png", "CC0 (Paul Müller)", grey=True),
)
MAX_UPSCALE = 2.0  # a source is used for an output size only if its largest crop needs no more
MIN_CROP = 0.4  # crops span 40% to 100% of the largest crop of the output's aspect ratio


def _package_file(package: str, path: str) -> Path | None:
    """A file inside an installed package's directory, found without importing the package."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / path
    return candidate if candidate.is_file() else None


def available_photos() -> dict[PhotoSource, Path]:
    """The photo sources installed here (scikit-image and matplotlib are optional)."""
    found = {source: _package_file(source.package, source.path) for source in PHOTO_SOURCES}
    return {source: path for source, path in found.items() if path is not None}


class PhotosUnavailable(RuntimeError):
    """No photo source is installed: `pip install scikit-image matplotlib`."""


def photo(rng: np.random.Generator, source: Image.Image, size: Size) -> tuple[Image.Image, str]:
    """A random crop of a photograph, mirrored half the time, resized (Lanczos) to `size`.

    The crop has the output's aspect ratio and spans MIN_CROP to 100% of the largest such crop (never
    less than needed to keep upscaling within MAX_UPSCALE), at a random position.
    """
    width, height = size
    fit = min(source.width / width, source.height / height)  # scale of the largest crop
    lowest = min(fit, max(MIN_CROP * fit, 1 / MAX_UPSCALE))
    scale = float(rng.uniform(lowest, fit))
    crop_w, crop_h = min(source.width, round(width * scale)), min(source.height, round(height * scale))
    x = int(rng.integers(0, source.width - crop_w + 1))
    y = int(rng.integers(0, source.height - crop_h + 1))
    image = source.crop((x, y, x + crop_w, y + crop_h))
    mirrored = bool(rng.random() < 0.5)
    if mirrored:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = image.resize(size, Image.Resampling.LANCZOS)
    return image, f"{crop_w}x{crop_h}+{x}+{y}{' mirrored' if mirrored else ''}"


Sample = tuple[str, Image.Image, str]  # (kind, image, how it was made)


def photo_set(
    count: int, size: Size, rng: np.random.Generator, sources: Collection[str] | None = None
) -> Iterator[Sample]:
    """`count` images cut from the installed photo sources in turn: (source name, image, crop).

    `sources` limits it to those names. Raises PhotosUnavailable (on the first item) when no source
    is installed or none is large enough.
    """
    installed = {
        source: path
        for source, path in available_photos().items()
        if sources is None or source.name in sources
    }
    usable = []
    for source, path in installed.items():
        with Image.open(path) as opened:
            picture = opened.convert("RGB")
        if min(picture.width / size[0], picture.height / size[1]) * MAX_UPSCALE >= 1:
            usable.append((source, picture))
    if not usable:
        raise PhotosUnavailable(
            "no photo source large enough is installed for this size (pip install scikit-image matplotlib)"
            if installed
            else "no photo source is installed (pip install scikit-image matplotlib)"
        )
    for index in range(count):
        source, picture = usable[index % len(usable)]
        image, crop = photo(rng, picture, size)
        yield source.name, image, crop


def synthetic_set(count: int, size: Size, rng: np.random.Generator) -> Iterator[Sample]:
    """`count` synthesised square images, the kinds of SYNTHS in turn."""
    if size[0] != size[1]:
        raise ValueError("the synthetic set is square only")
    kinds = list(SYNTHS)
    for index in range(count):
        kind = kinds[index % len(kinds)]
        yield kind, SYNTHS[kind](rng, size[0]), ""


def noise_set(count: int, size: Size, rng: np.random.Generator) -> Iterator[Sample]:
    """`count` white-noise images, the kinds of NOISE_KINDS in turn."""
    for index in range(count):
        kind = NOISE_KINDS[index % len(NOISE_KINDS)]
        yield kind, _noise(rng, size, kind), ""


FOLDER: Path | None = None  # --folder, for the "folder" set
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def folder_set(count: int, size: Size, rng: np.random.Generator) -> Iterator[Sample]:
    """The first `count` images (by name) of FOLDER, at their own sizes: e.g. unmarked model outputs.

    `size` is ignored; the kind of each row is the image's size. Images already carrying an Atelier
    watermark would show up as false reads on "unmarked", so give it outputs saved before stamping.
    """
    if FOLDER is None or not FOLDER.is_dir():
        raise ValueError(f"the folder set needs --folder with an existing folder, not {FOLDER}")
    files = sorted(f for f in FOLDER.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)[:count]
    for file in files:
        with Image.open(file) as opened:
            image = opened.convert("RGB")
        yield f"{image.width}x{image.height}", image, file.name


IMAGE_SETS: dict[str, Callable[[int, Size, np.random.Generator], Iterator[Sample]]] = {
    "synthetic": synthetic_set,
    "photos": photo_set,
    "noise": noise_set,
    "folder": folder_set,
}


def _noise(rng: np.random.Generator, size: Size, kind: str) -> Image.Image:
    width, height = size
    pixels: np.ndarray
    if kind == "uniform colour":
        pixels = rng.integers(0, 256, (height, width, 3))
    elif kind == "uniform grey":
        pixels = np.repeat(rng.integers(0, 256, (height, width, 1)), 3, axis=2)
    else:  # "gaussian σ=N": colour noise around a random mean colour
        sigma = float(kind.split("=")[1])
        pixels = rng.uniform(60, 196, 3) + rng.normal(0, sigma, (height, width, 3))
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "RGB")


NOISE_KINDS = (
    "uniform colour",
    "uniform grey",
    "gaussian σ=5",
    "gaussian σ=15",
    "gaussian σ=30",
    "gaussian σ=60",
)


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB (inf for identical images)."""
    mse = float(np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def jpeg(image: Image.Image, quality: int = 80) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def webp(image: Image.Image, quality: int = 80) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def resized_back(image: Image.Image, scale: float = 0.75) -> Image.Image:
    small = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    return small.resize(image.size, Image.Resampling.LANCZOS)


# The attacks, in table order: the goal's three first, then three for information.
ATTACKS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "clean": lambda image: image,
    "JPEG q80": jpeg,
    "resize 75% and back": resized_back,
    "JPEG q85": lambda image: jpeg(image, 85),
    "JPEG q70": lambda image: jpeg(image, 70),
    "WebP q80": webp,
}
GOAL_ATTACKS = ("clean", "JPEG q80", "resize 75% and back")


@dataclass
class Row:
    kind: str
    psnr: float
    embed_s: float
    reads: dict[str, bool] = field(default_factory=dict)  # attack -> the exact reference read back
    unmarked_false_positive: bool = False
    description: str = ""
    luma_only: bool = False  # marked in the luma channel alone (a neutral image)

    @property
    def clean(self) -> bool:
        return self.reads["clean"]

    @property
    def jpeg80(self) -> bool:
        return self.reads["JPEG q80"]

    @property
    def resize75(self) -> bool:
        return self.reads["resize 75% and back"]


def measure_one(kind: str, image: Image.Image, reference: int, description: str = "") -> Row:
    start = time.perf_counter()
    marked, luma_only = watermark.mark(image, watermark.encode_payload(reference))
    embed_s = time.perf_counter() - start

    def ok(candidate: Image.Image) -> bool:
        read = watermark.extract(candidate)
        return read is not None and read.reference == reference

    return Row(
        kind=kind,
        psnr=psnr(image, marked),
        embed_s=embed_s,
        reads={name: ok(attack(marked)) for name, attack in ATTACKS.items()},
        unmarked_false_positive=watermark.extract(image) is not None,
        description=description,
        luma_only=luma_only,
    )


def _share(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.1f}%)"


def summary(rows: list[Row], subtotals: dict[str, set[str]] | None = None) -> str:
    """A Markdown table per image kind (in order of appearance), per subtotal group, and overall."""
    extra = [name for name in ATTACKS if name not in GOAL_ATTACKS]
    lines = [
        "| images | n | clean | JPEG q80 | resize 75% and back | PSNR min / median dB | embed s (median) "
        "| false reads on unmarked | " + " | ".join(extra) + " | luma-only marks |",
        "|---|---|---|---|---|---|---|---|" + "---|" * (len(extra) + 1),
    ]
    kinds = list(dict.fromkeys(r.kind for r in rows))
    groups = {kind: [r for r in rows if r.kind == kind] for kind in kinds}
    for name, members in (subtotals or {}).items():
        groups[name] = [r for r in rows if r.kind in members]
    groups["all"] = rows
    for kind, group in groups.items():
        if not group:
            continue
        psnrs = [r.psnr for r in group]
        reads = {name: _share(sum(r.reads[name] for r in group), len(group)) for name in ATTACKS}
        false_reads = _share(sum(r.unmarked_false_positive for r in group), len(group))
        lines.append(
            f"| {kind} | {len(group)} | {reads['clean']} | {reads['JPEG q80']} "
            f"| {reads['resize 75% and back']} | {min(psnrs):.1f} / {float(np.median(psnrs)):.1f} "
            f"| {float(np.median([r.embed_s for r in group])):.2f} | {false_reads} | "
            + " | ".join(reads[name] for name in extra)
            + f" | {sum(r.luma_only for r in group)} |"
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
            marked, luma_only = watermark.mark(image, bits)
            read = watermark.extract_soft_luma if luma_only else watermark.extract_soft
            for name, attacked in (
                ("clean", marked),
                ("jpeg", jpeg(marked)),
                ("resize", resized_back(marked)),
            ):
                errors = int(np.sum((read(attacked, length) >= 0.5) != bits))
                hits[name] += errors == 0
                if name in worst:
                    worst[name] = max(worst[name], errors)
        lines.append(
            f"| {length} | {hits['clean']}/{count} | {hits['jpeg']}/{count} | {hits['resize']}/{count} "
            f"| {worst['jpeg']} / {worst['resize']} |"
        )
    return "\n".join(lines)


def _size(text: str) -> Size:
    width, _, height = text.partition("x")
    return int(width), int(height or width)


def measure_set(name: str, count: int, size: Size, seed: int) -> list[Row]:
    """Embed a random reference in each image of a set and read it back after each attack."""
    rng = np.random.default_rng(seed)
    rows = []
    for kind, image, description in IMAGE_SETS[name](count, size, rng):
        reference = int(rng.integers(0, 2**watermark.REFERENCE_BITS))
        rows.append(measure_one(kind, image, reference, description))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=list(IMAGE_SETS), default="synthetic", dest="image_set")
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--size", type=_size, default=(512, 512), help="512, or WIDTHxHEIGHT")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--folder", type=Path, help="the images of --set folder (e.g. unmarked model outputs)"
    )
    parser.add_argument("--library", action="store_true", help="use blind-watermark itself, not dwt_svd")
    parser.add_argument("--below-minimum", action="store_true", help="also mark images under MIN_SIDE")
    parser.add_argument(
        "--no-luma-fallback",
        action="store_true",
        help="read as blind-watermark does: all channels only (and so mark all channels, grey images too)",
    )
    parser.add_argument(
        "--no-luma-only", action="store_true", help="mark grey images in all channels too (as before)"
    )
    parser.add_argument("--raw-bits", help="comma-separated payload lengths to test instead, e.g. 48,64,96")
    args = parser.parse_args(argv)
    width, height = args.size
    if args.library:
        watermark.IMPLEMENTATION = (bwm_library.embed, bwm_library.extract)
    global FOLDER
    FOLDER = args.folder
    if args.no_luma_fallback:
        watermark.LUMA_FALLBACK = False
    if args.no_luma_only or args.library:
        watermark.LUMA_ONLY_WHEN_NEUTRAL = False
    if args.below_minimum:
        watermark.MIN_SIDE = 16  # measurement only: how the watermark fares below the production minimum
    started = time.perf_counter()
    if args.raw_bits:
        table = capacity([int(n) for n in args.raw_bits.split(",")], args.count, width, args.seed)
        print(
            f"{args.count} images at {width}x{width}, seed {args.seed}, {time.perf_counter() - started:.0f} s in all\n"
        )
        print(table)
        return
    try:
        rows = measure_set(args.image_set, args.count, args.size, args.seed)
    except (PhotosUnavailable, ValueError) as error:
        raise SystemExit(f"--set {args.image_set}: {error}") from None
    print(
        f"{args.image_set}: {args.count} images at {width}x{height}, seed {args.seed}, "
        f"{time.perf_counter() - started:.0f} s in all\n"
    )
    subtotals = None
    if args.image_set == "photos":
        grey = {source.name for source in PHOTO_SOURCES if source.grey}
        subtotals = {"colour photos": {source.name for source in PHOTO_SOURCES} - grey, "grey photos": grey}
    print(summary(rows, subtotals))
    failures = [
        f"{i}:{r.kind}{' ' + r.description if r.description else ''} ({', '.join(a for a, ok in r.reads.items() if not ok)})"
        for i, r in enumerate(rows)
        if not all(r.reads.values())
    ]
    print("\nimages with a failed read (any attack):", "; ".join(failures) or "none")


if __name__ == "__main__":
    main()
