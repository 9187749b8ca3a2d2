"""The job contract: validation that names the field, JSON round trips, pydantic-only imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from wire.contract import (
    ContractError,
    ImageJob,
    JobResult,
    MusicJob,
    Outcome,
    ProgressEvent,
    ResultEvent,
    TextJob,
    dump,
    parse_event,
    parse_job,
)


def test_text_job_round_trips_through_json() -> None:
    job = TextJob(options={"prompt": "  a haiku about rain  ", "kind": "poem"}, user_id=42)
    again = parse_job(dump(job))
    assert again == job
    assert isinstance(again, TextJob)
    assert again.options.prompt == "a haiku about rain"


def test_discriminator_picks_the_modality() -> None:
    assert isinstance(parse_job({"modality": "music"}), MusicJob)
    assert isinstance(parse_job({"modality": "image", "options": {"prompt": "a fox"}}), ImageJob)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"modality": "text", "options": {"prompt": "   "}}, "options.prompt"),
        ({"modality": "text", "options": {"prompt": "x", "max_new_tokens": 0}}, "options.max_new_tokens"),
        ({"modality": "music", "options": {"tempo": 1000}}, "options.tempo"),
        ({"modality": "music", "options": {"style": "polka-dubstep"}}, "options.style"),
        ({"modality": "image", "options": {"prompt": "a", "width": 513}}, "options.width"),
        ({"modality": "image", "options": {"prompt": "a", "count": 9}}, "options.count"),
        ({"modality": "image", "options": {"prompt": "a" * 1001}}, "options.prompt"),
        ({"modality": "text", "id": "not-hex", "options": {"prompt": "x"}}, "id"),
        ({"modality": "video"}, "modality"),
        ({"modality": "text", "options": {"prompt": "x"}, "surprise": 1}, "surprise"),
    ],
)
def test_malformed_payload_names_the_field(payload: dict[str, object], field: str) -> None:
    with pytest.raises(ContractError) as caught:
        parse_job(payload)
    assert field in str(caught.value)


def test_malformed_json_text_is_a_contract_error() -> None:
    with pytest.raises(ContractError):
        parse_job("{not json")


def test_jobs_are_frozen() -> None:
    job = MusicJob()
    with pytest.raises(ValueError):
        job.user_id = 3  # type: ignore[misc]


def test_events_round_trip() -> None:
    result = JobResult(job_id="a" * 32, status=Outcome.SUCCEEDED, text="hi")
    event = parse_event(dump(ResultEvent(result=result)))
    assert isinstance(event, ResultEvent) and event.result == result
    progress = parse_event(
        json.dumps({"type": "progress", "progress": {"job_id": "b" * 32, "fraction": 0.5}})
    )
    assert isinstance(progress, ProgressEvent) and progress.progress.fraction == 0.5


def test_contract_imports_nothing_but_pydantic() -> None:
    code = (
        "import sys; import wire.contract; "
        "bad = [m for m in ('torch', 'discord', 'celery', 'redis', 'sqlalchemy', 'models') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
