"""What job messages look like: parameters, friendly failures, files within the upload limit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core.components import ResultButtons
from bot.db.jobs import JobRecord
from bot.db.status import JobStatus
from bot.delivery.describe import describe_job, failure_sentence, progress_bar
from bot.delivery.render import finished_message, progress_message, queued_message
from bot.exts.results.buttons import add_result_buttons
from wire.contract import ArtifactRef, ErrorCode, ImageJob, JobResult, MusicJob, TextJob

NOW = datetime(2026, 1, 1, tzinfo=UTC)

RESULTS = ResultButtons()  # the buttons the results feature puts on job messages
add_result_buttons(RESULTS)


def ref(name: str, kind: str, size: int) -> ArtifactRef:
    return ArtifactRef(
        key=f"jobs/x/{name}", filename=name, content_type="x", kind=kind, size=size, sha256="0"
    )


def record(
    job: Any, result: JobResult | None, artifacts: tuple[ArtifactRef, ...] = (), **extra: Any
) -> JobRecord:
    values: dict[str, Any] = {
        "id": job.id,
        "modality": job.modality,
        "status": JobStatus.DELIVERED if result else JobStatus.RUNNING,
        "preset": job.preset,
        "guild_id": 1,
        "channel_id": 2,
        "user_id": 3,
        "parent_id": None,
        "job": job,
        "attempts": 1,
        "progress": 0.25,
        "progress_message": "bar 4 of 16",
        "result": result,
        "error": result.error if result else None,
        "error_code": result.error_code if result else None,
        "worker": "w",
        "delivery_target": None,
        "artifacts": artifacts,
        "created_at": NOW,
        "started_at": NOW,
        "finished_at": NOW if result else None,
        "delivered_at": None,
        "cancel_requested_at": None,
        "updated_at": NOW,
    }
    values.update(extra)
    return JobRecord(**values)


def buttons(rendered: Any) -> list[str]:
    return [item.custom_id.split(":")[1] for item in rendered.view.children]


def test_parameters_are_described_in_one_line() -> None:
    music = MusicJob(
        options={"style": "jig", "key": "D", "mode": "dorian", "accompaniment": "chords", "seed": 5}
    )
    assert describe_job(music) == "jig · D dorian · 120 bpm · 16 bars · instrument 0 · + chords · seed 5"
    image = ImageJob(
        options={"prompt": "fox", "width": 768, "height": 512, "count": 4, "steps": 2}, preset="sd-turbo"
    )
    assert describe_job(image, seed=9) == "768×512 · 2 steps · 4 images · seed 9 · preset sd-turbo"
    text = TextJob(options={"prompt": "rain", "kind": "prompt_ideas", "max_new_tokens": 50})
    assert describe_job(text) == "prompt ideas · up to 50 tokens"
    assert progress_bar(0.5, 4) == "▰▰▱▱"


def test_queued_and_progress_messages_offer_cancel() -> None:
    job = TextJob(options={"prompt": "rain"})
    queued = queued_message(job, 3, True, "en", RESULTS)
    assert "number **3**" in (queued.embed.description or "") and buttons(queued) == ["cancel"]
    assert "已排队" in (queued_message(job, 1, False, "zh-CN", RESULTS).embed.description or "")
    running = progress_message(record(job, None), "en", RESULTS, preview="soft rain")
    assert "25%" in (running.embed.description or "") and "bar 4 of 16" in (running.embed.description or "")
    assert "soft rain" in (running.embed.description or "") and buttons(running) == ["cancel"]


def test_long_text_is_clipped_in_the_embed_and_kept_whole_in_the_file() -> None:
    job = TextJob(options={"prompt": "a long story"})
    text = "word " * 2000
    result = JobResult(
        job_id=job.id, status=JobStatus.SUCCEEDED, text=text, artifacts=(ref("story.txt", "text", 10),)
    )
    rendered = finished_message(
        record(job, result, result.artifacts), {"jobs/x/story.txt": text.encode()}, 10**6, "en", RESULTS
    )
    assert len(rendered.embed.description or "") <= 4096 and "attached file" in (
        rendered.embed.description or ""
    )
    assert [name for name, _ in rendered.files] == ["story.txt"]
    assert buttons(rendered) == ["reroll", "delete"]


def test_files_over_the_limit_are_skipped_and_named() -> None:
    job = MusicJob()
    artifacts = (ref("a.ogg", "audio", 800), ref("a.mid", "midi", 100), ref("roll.png", "piano_roll", 150))
    result = JobResult(job_id=job.id, status=JobStatus.SUCCEEDED, artifacts=artifacts)
    contents = {a.key: b"x" * a.size for a in artifacts}
    rendered = finished_message(record(job, result, artifacts), contents, 300, "en", RESULTS)
    assert [name for name, _ in rendered.files] == ["a.mid", "roll.png"]
    assert rendered.skipped == ["a.ogg"] and rendered.embed.image.url == "attachment://roll.png"
    assert buttons(rendered) == ["reroll", "extend", "delete"]


def test_a_tune_in_form_shows_its_parts_and_a_chosen_form_is_in_the_line() -> None:
    job = MusicJob(options={"style": "reel", "bars": 32, "form": "AABB"})
    assert "32 bars" in describe_job(job) and "form AABB" in describe_job(job)
    metadata = {"figures": {"parts": ["A", "A", "B", "B"], "upbeat_steps": 6}}
    result = JobResult(job_id=job.id, status=JobStatus.SUCCEEDED, metadata=metadata)
    fields = {
        f.name: f.value for f in finished_message(record(job, result), {}, 10**6, "en", RESULTS).embed.fields
    }
    assert fields["Form"] == "A A B B · upbeat"
    plain = JobResult(job_id=job.id, status=JobStatus.SUCCEEDED, metadata={"figures": {"parts": []}})
    assert not finished_message(record(job, plain), {}, 10**6, "en", RESULTS).embed.fields
    assert "form" not in describe_job(MusicJob())


def test_missing_artifacts_are_simply_not_attached() -> None:
    job = ImageJob(options={"prompt": "fox"})
    artifacts = (ref("grid.png", "grid", 10),)
    result = JobResult(job_id=job.id, status=JobStatus.SUCCEEDED, artifacts=artifacts)
    rendered = finished_message(record(job, result, artifacts), {}, 10**6, "en", RESULTS)
    assert rendered.files == [] and rendered.embed.image.url is None
    assert buttons(rendered) == ["reroll", "variation", "delete"]


def test_failures_get_a_friendly_sentence_and_no_remix_of_missing_output() -> None:
    job = MusicJob()
    result = JobResult(
        job_id=job.id, status=JobStatus.FAILED, error="weights missing", error_code=ErrorCode.MODEL_MISSING
    )
    rendered = finished_message(record(job, result), {}, 10**6, "en", RESULTS)
    assert "isn't installed" in (rendered.embed.description or "") and buttons(rendered) == [
        "reroll",
        "delete",
    ]
    assert failure_sentence(None, None, "en") == "Something went wrong while making this. Please try again."
    assert "不支持" in failure_sentence(None, ErrorCode.NOT_AVAILABLE, "zh-CN")
