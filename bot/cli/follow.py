"""Submit a job from the command line and follow it to the end, with a progress bar."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from bot.db.jobs import JobRecord
from bot.db.status import JobStatus
from bot.runtime import Runtime
from wire.contract import AnyJob, JobResult, ProgressEvent, ResultEvent, StartedEvent
from wire.events import event_job_id, last_entry_id, tail_events

CLI_TARGET = {"kind": "cli"}


async def follow(rt: Runtime, job_id: str, start_id: str, console: Console, timeout_s: float) -> JobResult:
    """Apply this job's events to the database as they come, drawing progress; return its result."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("queued", total=1.0, note="")
        async with asyncio.timeout(timeout_s):
            async for event in tail_events(rt.redis, rt.settings.events.stream, start_id):
                if event_job_id(event) != job_id:
                    continue
                await rt.service.apply_event(event)
                if isinstance(event, StartedEvent):
                    bar.update(task, description=f"running on {event.worker}")
                elif isinstance(event, ProgressEvent):
                    note = event.progress.message or ""
                    bar.update(task, completed=event.progress.fraction, note=note[:60])
                elif isinstance(event, ResultEvent):
                    bar.update(task, completed=1.0, description=event.result.status.value)
                    return event.result
    raise TimeoutError  # pragma: no cover - the async timeout raises first


def save_artifacts(rt: Runtime, record: JobRecord, out_dir: Path) -> list[Path]:
    """Write a finished job's files into a folder; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    for ref in record.artifacts:
        path = out_dir / f"{record.id[:8]}-{ref.filename}"
        path.write_bytes(rt.store.get(ref.key))
        saved.append(path)
    return saved


async def submit_and_follow(
    rt: Runtime, job: AnyJob, out_dir: Path, console: Console, *, wait: bool, timeout_s: float
) -> JobRecord:
    """Submit, follow and save; the job keeps running if we stop waiting."""
    start_id = await last_entry_id(rt.redis, rt.settings.events.stream)
    receipt = await rt.service.submit(job, CLI_TARGET)
    where = (
        f"position {receipt.queue_position} in the queue" if receipt.enqueued else "waiting for the broker"
    )
    console.print(f"job [bold]{receipt.job_id}[/bold] queued ({where})")
    if wait:
        try:
            await follow(rt, receipt.job_id, start_id, console, timeout_s)
        except TimeoutError:
            hint = f"see `atelier jobs show {receipt.job_id}`"
            console.print(f"[yellow]still running after {timeout_s:.0f} s[/yellow]; {hint}")
    record = await rt.jobs.get(receipt.job_id)
    assert record is not None
    if record.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
        await rt.jobs.mark_delivered(record.id)
    return record
