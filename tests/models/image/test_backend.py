"""The diffusers backend end to end on the tiny pipeline, loaded through a preset."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from config.settings import Settings
from models.base import GenerationError, GenerationOutput, JobCancelled
from models.image.backend import DiffusersImageBackend
from provenance import LABEL
from provenance.png import read_png_provenance
from tests.helpers.context import RecordingContext
from tests.helpers.images import assert_same_image
from tests.helpers.network import refused_network
from tests.models.image.conftest import image_job, png_image, tiny_preset
from wire.contract import ErrorCode


def pixels(output: GenerationOutput, kind: str = "image") -> list[np.ndarray]:
    return [np.asarray(png_image(f.data)) for f in output.files if f.kind == kind]


def test_text_to_image_single(backend: DiffusersImageBackend) -> None:
    ctx = RecordingContext()
    output = backend.generate(image_job(seed=7), ctx)
    assert [f.kind for f in output.files] == ["image"]
    file = output.files[0]
    assert file.content_type == "image/png" and file.filename.endswith(".png")
    assert png_image(file.data).size == (64, 64)
    record = read_png_provenance(file.data)
    assert record is not None
    assert record["label"] == LABEL and record["seed"] == 7 and record["steps"] == 2
    assert "cannot carry one" in record["watermark"]
    assert output.metadata["seeds"] == [7]
    assert output.metadata["safety"]["checker"] == "none"
    assert output.metadata["safety"]["notes"]


def test_count_four_gives_grid_and_images(backend: DiffusersImageBackend) -> None:
    output = backend.generate(image_job(count=4, seed=11, height=96), RecordingContext())
    kinds = [f.kind for f in output.files]
    assert kinds == ["grid", "image", "image", "image", "image"]
    assert png_image(output.files[0].data).size == (128, 192)
    assert all(png_image(f.data).size == (64, 96) for f in output.files[1:])
    assert output.metadata["seeds"] == [11, 12, 13, 14]
    singles = pixels(output)
    grid = np.asarray(png_image(output.files[0].data))
    assert np.array_equal(grid[96:, 64:], singles[3])
    assert len({a.tobytes() for a in singles}) == 4


def test_same_seed_same_image_and_seeds_are_per_image(backend: DiffusersImageBackend) -> None:
    first = pixels(backend.generate(image_job(seed=5, count=2), RecordingContext()))
    again = pixels(backend.generate(image_job(seed=5, count=2), RecordingContext()))
    shifted = pixels(backend.generate(image_job(seed=6), RecordingContext()))
    other = pixels(backend.generate(image_job(seed=99), RecordingContext()))
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    # A batch of two and a batch of one run different CPU kernels (which ones depends on the thread
    # count), so the second image of seed 5's batch is seed 6's image up to float rounding.
    assert pixel_gap(first[1], shifted[0]) <= 3
    assert pixel_gap(first[0], other[0]) > 20


def pixel_gap(a: np.ndarray, b: np.ndarray) -> int:
    """The largest difference of one channel of one pixel between two images."""
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


def test_seed_is_drawn_and_recorded(backend: DiffusersImageBackend) -> None:
    output = backend.generate(image_job(), RecordingContext())
    seed = output.metadata["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**32
    replay = backend.generate(image_job(seed=seed), RecordingContext())
    assert np.array_equal(pixels(output)[0], pixels(replay)[0])


def test_progress_per_step(backend: DiffusersImageBackend) -> None:
    ctx = RecordingContext()
    backend.generate(image_job(seed=1, steps=3), ctx)
    assert [(e.step, e.total) for e in ctx.reports] == [(1, 3), (2, 3), (3, 3)]
    assert ctx.reports[-1].fraction == 1.0


def test_cancel_mid_run(backend: DiffusersImageBackend) -> None:
    ctx = RecordingContext(cancel_after=1)
    with pytest.raises(JobCancelled):
        backend.generate(image_job(seed=1, steps=4), ctx)
    assert len(ctx.reports) == 1
    assert backend.pipe._interrupt is True


def _init_png(size: tuple[int, int] = (80, 60)) -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (*size[::-1], 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_image_to_image(backend: DiffusersImageBackend) -> None:
    ctx = RecordingContext(inputs={"up/1": _init_png()})
    output = backend.generate(image_job(seed=3, steps=4, init_artifact="up/1", strength=0.5), ctx)
    assert output.metadata["mode"] == "image-to-image"
    assert [e.total for e in ctx.reports] == [2, 2]
    again = backend.generate(
        image_job(seed=3, steps=4, init_artifact="up/1", strength=0.5),
        RecordingContext(inputs={"up/1": _init_png()}),
    )
    text_only = backend.generate(image_job(seed=3, steps=4), RecordingContext())
    assert np.array_equal(pixels(output)[0], pixels(again)[0])
    assert not np.array_equal(pixels(output)[0], pixels(text_only)[0])


def test_image_to_image_raises_steps_so_one_runs(backend: DiffusersImageBackend) -> None:
    ctx = RecordingContext(inputs={"k": _init_png()})
    output = backend.generate(image_job(seed=3, steps=1, init_artifact="k", strength=0.5), ctx)
    assert output.metadata["steps"] == 2 and len(ctx.reports) == 1
    with pytest.raises(GenerationError) as caught:
        backend.generate(
            image_job(steps=1, init_artifact="k", strength=0.2), RecordingContext(inputs={"k": _init_png()})
        )
    assert caught.value.code == ErrorCode.INVALID_INPUT and "5 steps" in caught.value.message


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"width": 512, "height": 512}, "choose one of 64x64, 64x96"),
        ({"height": 128}, "choose one of 64x64, 64x96"),
        ({"steps": 5}, "at most 4 steps"),
    ],
)
def test_bad_size_or_steps(backend: DiffusersImageBackend, options: dict[str, int], expected: str) -> None:
    ctx = RecordingContext()
    with pytest.raises(GenerationError) as caught:
        backend.generate(image_job(**options), ctx)
    assert caught.value.code == ErrorCode.INVALID_INPUT and expected in caught.value.message
    assert ctx.reports == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GIF89a" + b"\x00" * 40, "GIF"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "damaged"),
        (b"not an image at all", "PNG, JPEG or WebP"),
    ],
)
def test_bad_attachments(backend: DiffusersImageBackend, data: bytes, expected: str) -> None:
    ctx = RecordingContext(inputs={"k": data})
    with pytest.raises(GenerationError) as caught:
        backend.generate(image_job(init_artifact="k"), ctx)
    assert caught.value.code == ErrorCode.INVALID_INPUT and expected in caught.value.message
    assert ctx.reports == []


@pytest.mark.parametrize("guidance", [None, 3.0])
def test_run_batch_equals_unbatched(backend: DiffusersImageBackend, guidance: float | None) -> None:
    jobs = [
        image_job(prompt="a red fox", seed=21, count=2, guidance=guidance),
        image_job(prompt="a blue whale", seed=400, negative_prompt="blurry", guidance=guidance),
        image_job(prompt="a green field", seed=9, count=1, guidance=guidance),
    ]
    contexts = [RecordingContext() for _ in jobs]
    batched = backend.run_batch(jobs, contexts)
    assert all(isinstance(r, GenerationOutput) for r in batched)
    assert [r.metadata["timings"]["batch_size"] for r in batched] == [3, 3, 3]  # type: ignore[union-attr]
    assert all(len(c.reports) == 2 for c in contexts)
    for job, result in zip(jobs, batched, strict=True):
        alone = backend.generate(job, RecordingContext())
        assert isinstance(result, GenerationOutput)
        for together, single in zip(pixels(result), pixels(alone), strict=True):
            assert_same_image(together, single)


def test_run_batch_keeps_errors_and_groups_apart(backend: DiffusersImageBackend) -> None:
    jobs = [image_job(seed=1), image_job(width=512, height=512), image_job(seed=2, height=96)]
    results = backend.run_batch(jobs, [RecordingContext() for _ in jobs])
    assert isinstance(results[0], GenerationOutput) and isinstance(results[2], GenerationOutput)
    assert isinstance(results[1], GenerationError) and results[1].code == ErrorCode.INVALID_INPUT
    assert results[0].metadata["timings"]["batch_size"] == 1


def test_run_batch_cancels_only_the_cancelled_job(backend: DiffusersImageBackend) -> None:
    jobs = [image_job(seed=1), image_job(seed=2)]
    results = backend.run_batch(jobs, [RecordingContext(cancel_after=1), RecordingContext()])
    assert isinstance(results[0], JobCancelled)
    assert isinstance(results[1], GenerationOutput)


def test_missing_model_fails_without_the_network(
    atelier_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Backends never download: a model that is not here is MODEL_MISSING without a single connection
    (so nothing waits on a timeout)."""
    for model in ("nobody/no-such-model-atelier", str(tmp_path / "absent")):
        with refused_network(monkeypatch) as attempts, pytest.raises(GenerationError) as caught:
            DiffusersImageBackend.from_preset("x", tiny_preset(Path(model)), atelier_settings)
        assert caught.value.code == ErrorCode.MODEL_MISSING
        assert f"atelier models pull {model}" in caught.value.message
        assert attempts == []


def test_scheduler_by_class_name(tiny_folder: Path, atelier_settings: Settings) -> None:
    preset = tiny_preset(tiny_folder, scheduler="DDIMScheduler")
    loaded = DiffusersImageBackend.from_preset("ddim", preset, atelier_settings)
    assert type(loaded.pipe.scheduler).__name__ == "DDIMScheduler"
    with pytest.raises(GenerationError) as caught:
        DiffusersImageBackend.from_preset("bad", tiny_preset(tiny_folder, scheduler="Path"), atelier_settings)
    assert "not a diffusers scheduler" in caught.value.message


def test_cuda_preset_falls_back_to_cpu_float32(tiny_folder: Path, atelier_settings: Settings) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    loaded = DiffusersImageBackend.from_preset(
        "gpu", tiny_preset(tiny_folder, device="cuda", dtype="float16"), atelier_settings
    )
    assert loaded.describe()["device"] == "cpu" and loaded.describe()["dtype"] == "float32"
    assert loaded.pipe.unet.dtype == torch.float32


def test_large_enough_outputs_carry_a_verifiable_watermark(
    tiny_folder: Path, atelier_settings: Settings
) -> None:
    from provenance.verify import verify

    preset = tiny_preset(tiny_folder, sizes=[(256, 256)])
    loaded = DiffusersImageBackend.from_preset("tiny-256", preset, atelier_settings)
    job = image_job(width=256, height=256, seed=8, count=2)
    output = loaded.generate(job, RecordingContext())
    assert output.metadata["watermark"] == f"embedded (job reference {job.id[:8]})"
    for file in output.files:
        report = verify(file.data, file.filename)
        assert report.found_by == "both" and report.job_id == job.id and report.reference == job.id[:8]
