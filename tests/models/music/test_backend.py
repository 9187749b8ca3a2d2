"""MusicBackend end to end: the committed weights, progress, cancel, continuation and bad uploads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config.settings import MusicPreset, get_settings
from models.base import GenerationError, JobCancelled
from models.music.backend import MusicBackend
from provenance import LABEL
from tests.helpers.context import RecordingContext
from wire.contract import ErrorCode, MusicJob, MusicOptions

from .helpers import melody_midi
from .test_midi_input import BAD_FILES, G_MAJOR_TUNE


@pytest.fixture(scope="module")
def committed() -> MusicBackend:
    return MusicBackend.from_preset("default", MusicPreset(), get_settings())


@pytest.fixture(scope="module")
def tiny(tiny_weights: Path) -> MusicBackend:
    return MusicBackend("tiny", tiny_weights, threads=1)


def test_committed_weights_make_a_short_tune(committed: MusicBackend) -> None:
    job = MusicJob(options=MusicOptions(style="jig", key="D", mode="dorian", tempo=120, bars=4, seed=11))
    ctx = RecordingContext()
    output = committed.generate(job, ctx)
    kinds = {(f.filename, f.content_type, f.kind) for f in output.files}
    assert kinds == {
        ("tune.ogg", "audio/ogg", "audio"),
        ("tune.mid", "audio/midi", "midi"),
        ("piano-roll.png", "image/png", "piano_roll"),
    }
    meta = output.metadata
    assert meta["label"] == LABEL and meta["job_id"] == job.id and meta["seed"] == 11
    assert meta["figures"]["bars"] == 4 and meta["figures"]["tokens"] > 4
    assert meta["key"] == "D dorian" and meta["meter"] == "6/8"
    json.dumps(meta)
    assert ctx.reports[-1].fraction == 1.0 and len(ctx.reports) >= 4
    again = committed.generate(job, RecordingContext())
    assert next(f.data for f in again.files if f.kind == "midi") == next(
        f.data for f in output.files if f.kind == "midi"
    )


def test_a_seed_is_chosen_and_reported(tiny: MusicBackend) -> None:
    output = tiny.generate(MusicJob(options=MusicOptions(bars=4)), RecordingContext())
    assert isinstance(output.metadata["seed"], int)


def test_cancel_stops_decoding(tiny: MusicBackend) -> None:
    with pytest.raises(JobCancelled):
        tiny.generate(MusicJob(options=MusicOptions(bars=16, seed=1)), RecordingContext(cancel_after=3))


def test_continuation_through_the_backend(tiny: MusicBackend) -> None:
    ctx = RecordingContext(inputs={"upload/tune.mid": melody_midi(G_MAJOR_TUNE)})
    job = MusicJob(options=MusicOptions(bars=4, seed=2, prime_artifact="upload/tune.mid"))
    output = tiny.generate(job, ctx)
    assert output.metadata["figures"]["prime_bars"] == 4 and output.metadata["key"] == "G major"


@pytest.mark.parametrize("name", ["corrupt", "only drums", "10 MB", "not MIDI renamed .mid"])
def test_bad_uploads_become_invalid_input(tiny: MusicBackend, name: str) -> None:
    ctx = RecordingContext(inputs={"k": BAD_FILES[name]})
    with pytest.raises(GenerationError) as caught:
        tiny.generate(MusicJob(options=MusicOptions(bars=4, prime_artifact="k")), ctx)
    assert caught.value.code == ErrorCode.INVALID_INPUT
