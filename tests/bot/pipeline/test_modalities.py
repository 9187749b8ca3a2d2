"""Image and music jobs through the whole pipeline: a real worker subprocess, a tiny real diffusers
pipeline built in the test, and the committed music model."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from bot.db.status import JobStatus
from bot.runtime import Runtime
from provenance.verify import verify
from tests.bot.pipeline.conftest import ConsumerControl, WaitFor, image_env
from wire.contract import ErrorCode, ImageJob, MusicJob

FINISHED = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


async def test_image_job_runs_end_to_end_with_a_grid(
    runtime: Runtime, consumer: ConsumerControl, start_worker: object, wait_for: WaitFor, tiny_image_dir: Path
) -> None:
    start_worker(runtime.settings, queues="gen.image", **image_env(tiny_image_dir))  # type: ignore[operator]
    job = ImageJob(
        options={"prompt": "a lighthouse at dusk", "width": 64, "height": 64, "count": 4, "seed": 7}
    )
    await runtime.service.submit(job)
    record = await wait_for(job.id, lambda r: r.status in FINISHED, 180)
    assert record.status is JobStatus.SUCCEEDED, record.error
    kinds = [a.kind for a in record.artifacts]
    assert kinds.count("grid") == 1 and kinds.count("image") == 4
    grid = Image.open(io.BytesIO(runtime.store.get(record.artifacts[0].key)))
    assert grid.format == "PNG" and grid.width >= 128
    assert record.result is not None and record.result.metadata["job_id"] == job.id
    assert verify(runtime.store.get(record.artifacts[1].key), "image.png").job_id == job.id

    bad = ImageJob(options={"prompt": "a fox", "width": 512, "height": 512})  # not an allowed size
    await runtime.service.submit(bad)
    failed = await wait_for(bad.id, lambda r: r.status in FINISHED, 60)
    assert failed.status is JobStatus.FAILED and failed.error_code is ErrorCode.INVALID_INPUT
    assert "64" in (failed.error or "")


async def test_music_job_runs_end_to_end_on_the_committed_model(
    runtime: Runtime, consumer: ConsumerControl, start_worker: object, wait_for: WaitFor
) -> None:
    start_worker(runtime.settings, queues="gen.music")  # type: ignore[operator]
    options = {"style": "jig", "key": "D", "mode": "dorian", "bars": 8, "form": "AABB", "seed": 11}
    job = MusicJob(options=options)
    await runtime.service.submit(job)
    record = await wait_for(job.id, lambda r: r.status in FINISHED, 180)
    assert record.status is JobStatus.SUCCEEDED, record.error
    by_kind = {a.kind: a for a in record.artifacts}
    assert {"audio", "midi", "piano_roll"} <= set(by_kind)
    assert record.result is not None and record.result.metadata["figures"]["parts"] == ["A", "A", "B", "B"]
    assert runtime.store.get(by_kind["midi"].key).startswith(b"MThd")
    assert runtime.store.get(by_kind["audio"].key).startswith(b"OggS")
    assert runtime.store.get(by_kind["piano_roll"].key).startswith(b"\x89PNG")
    for ref in by_kind.values():  # every file says where it came from, as `atelier verify` reads it
        report = verify(runtime.store.get(ref.key), ref.filename)
        assert report.found_by == "metadata" and report.job_id == job.id and report.seed == 11
