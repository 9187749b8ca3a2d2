"""The text backend end to end on a tiny random model loaded through the preset code."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from config.settings import Settings, TextPreset
from models.base import GenerationError, JobCancelled
from models.text.backend import TransformersTextBackend
from provenance import LABEL
from tests.helpers.context import RecordingContext, streamed
from tests.helpers.network import refused_network
from wire.contract import ErrorCode, TextJob

MakeJob = Callable[..., TextJob]


@pytest.fixture
def backend(tiny_preset: TextPreset, settings: Settings) -> TransformersTextBackend:
    return TransformersTextBackend.from_preset("tiny", tiny_preset, settings)


def test_generation_returns_text_file_with_footer_and_metadata(
    backend: TransformersTextBackend, make_job: MakeJob
) -> None:
    job = make_job(kind="story", max_new_tokens=12, seed=3)
    output = backend.generate(job, RecordingContext())

    assert output.text and output.text == output.text.strip()
    [file] = output.files
    assert (file.filename, file.content_type, file.kind) == (
        "story.txt",
        "text/plain; charset=utf-8",
        "text",
    )
    body = file.data.decode("utf-8")
    assert body.startswith(output.text)
    footer = body.rstrip("\n").splitlines()[-1]
    assert LABEL in footer and job.id in footer and backend.model_label in footer and "seed 3" in footer
    meta = output.metadata
    assert meta["job_id"] == job.id and meta["seed"] == 3 and meta["model"] == backend.model_label
    assert meta["tokens"] == 12 and meta["tokens_per_s"] > 0 and meta["load_s"] >= 0
    assert meta["finish_reason"] == "length" and meta["preset"] == "tiny"


def test_same_seed_same_text_and_other_seed_other_text(
    backend: TransformersTextBackend, make_job: MakeJob
) -> None:
    first = backend.generate(make_job(seed=11, temperature=1.0, top_p=1.0), RecordingContext()).text
    again = backend.generate(make_job(seed=11, temperature=1.0, top_p=1.0), RecordingContext()).text
    other = backend.generate(make_job(seed=12, temperature=1.0, top_p=1.0), RecordingContext()).text
    assert first == again
    assert first != other


def test_temperature_zero_is_greedy_whatever_the_seed(
    backend: TransformersTextBackend, make_job: MakeJob
) -> None:
    texts = {
        backend.generate(make_job(seed=seed, temperature=0.0), RecordingContext()).text for seed in (1, 2)
    }
    assert len(texts) == 1


def test_without_a_seed_one_is_chosen_and_recorded(
    backend: TransformersTextBackend, make_job: MakeJob
) -> None:
    output = backend.generate(make_job(seed=None, max_new_tokens=4), RecordingContext())
    seed = output.metadata["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**32
    assert f"seed {seed}" in output.files[0].data.decode()


def test_max_new_tokens_is_bounded_by_job_and_preset(
    backend: TransformersTextBackend, make_job: MakeJob
) -> None:
    assert backend.preset.max_new_tokens == 48
    short = backend.generate(make_job(max_new_tokens=5), RecordingContext())
    capped = backend.generate(make_job(max_new_tokens=500), RecordingContext())
    assert short.metadata["tokens"] == 5 and short.metadata["max_new_tokens"] == 5
    assert capped.metadata["tokens"] == 48 and capped.metadata["max_new_tokens"] == 48


def test_progress_streams_growing_preview_text(backend: TransformersTextBackend, make_job: MakeJob) -> None:
    ctx = RecordingContext()
    output = backend.generate(make_job(max_new_tokens=10), ctx)
    previews = [str(report.preview_text) for report in ctx.reports if streamed(report)]
    assert len(previews) == 10
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(previews))
    assert len(previews[-1]) > len(previews[0]) > 0
    fractions = [report.fraction for report in ctx.reports if streamed(report)]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [report.step for report in ctx.reports if streamed(report)] == list(range(1, 11))
    assert output.text is not None and output.text in previews[-1]


def test_cancel_mid_generation_raises_job_cancelled_promptly(
    backend: TransformersTextBackend, make_job: MakeJob
) -> None:
    ctx = RecordingContext(cancel_after=3, counts=streamed)
    with pytest.raises(JobCancelled):
        backend.generate(make_job(max_new_tokens=40), ctx)
    assert sum(1 for report in ctx.reports if streamed(report)) == 3


def test_a_job_cancelled_before_it_starts_never_generates(
    backend: TransformersTextBackend, make_job: MakeJob
) -> None:
    ctx = RecordingContext(cancel_after=0)
    with pytest.raises(JobCancelled):
        backend.generate(make_job(), ctx)
    assert ctx.reports == []


def test_describe_names_preset_model_and_cache(backend: TransformersTextBackend) -> None:
    info = backend.describe()
    assert info["modality"] == "text" and info["preset"] == "tiny" and info["cache"] == "none"
    assert info["model"] == backend.model_label


@pytest.mark.parametrize(
    "model",
    [
        "/no/such/folder/anywhere",
        "./no-such-relative-folder",
        "package:atelier_no_such_package",
        "nobody/not-a-model",
    ],
)
def test_missing_model_is_model_missing_without_the_network(
    model: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker offline (HF_HUB_OFFLINE, as tests and workers run) answers at once: it never even
    tries a connection, so nothing can hang on a timeout."""
    with refused_network(monkeypatch) as attempts, pytest.raises(GenerationError) as caught:
        TransformersTextBackend.from_preset("ghost", TextPreset(model=model, gguf_file=None), settings)
    assert caught.value.code == ErrorCode.MODEL_MISSING
    assert "atelier models pull ghost" in caught.value.message
    assert attempts == []


def test_a_folder_without_weights_is_model_missing(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(GenerationError) as caught:
        TransformersTextBackend.from_preset("empty", TextPreset(model=str(tmp_path)), settings)
    assert caught.value.code == ErrorCode.MODEL_MISSING


def test_a_cuda_preset_on_a_machine_without_cuda_is_not_available(
    tiny_model_dir: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(GenerationError) as caught:
        TransformersTextBackend.from_preset(
            "gpu", TextPreset(model=str(tiny_model_dir), device="cuda"), settings
        )
    assert caught.value.code == ErrorCode.NOT_AVAILABLE


def test_a_non_text_job_is_refused(backend: TransformersTextBackend) -> None:
    from wire.contract import MusicJob

    with pytest.raises(GenerationError) as caught:
        backend.generate(MusicJob(), RecordingContext())
    assert caught.value.code == ErrorCode.INVALID_INPUT
