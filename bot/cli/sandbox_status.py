"""The sandbox page's job panel, read from the running bot: jobs from its database, workers from Celery.

`status_source(bot)` returns the read-only callable that `bot.sandbox.web` calls (the sandbox never
imports the bot). Jobs come from `bot.runtime.jobs`; which workers exist, their queues and their pool
processes come from Celery's `inspect` broadcast, run in a thread and refreshed every few seconds in
the background, so the panel never waits on a broadcast. A running job's `worker` (`host:pid`, see
`workers.runner.worker_name`) is matched to the Celery worker owning that process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.db.jobs import JobRecord
from bot.db.status import ACTIVE_STATUSES, JobStatus
from bot.delivery.describe import describe_job, prompt_of
from wire.contract import MODALITIES
from wire.routing import queue_for

JSON = dict[str, Any]
RECENT_JOBS = 60
FINISHED_SHOWN = 6
WORKERS_EVERY_S = 3.0
INSPECT_TIMEOUT_S = 1.0


class WorkerRoll:
    """The last answer to Celery's `inspect` (workers, their queues and processes), kept fresh in a thread."""

    def __init__(
        self, celery_app: Any, every_s: float = WORKERS_EVERY_S, timeout_s: float = INSPECT_TIMEOUT_S
    ):
        self.app = celery_app
        self.every_s = every_s
        self.timeout_s = timeout_s
        self.workers: list[JSON] | None = None
        self.read_at = 0.0
        self._refresh: asyncio.Task[None] | None = None

    async def current(self) -> list[JSON] | None:
        """The known workers (None until the first answer); a stale roll refreshes in the background."""
        if time.monotonic() - self.read_at > self.every_s and (self._refresh is None or self._refresh.done()):
            self._refresh = asyncio.create_task(self._read())
        if self.workers is None and self._refresh is not None:
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._refresh), self.timeout_s * 2 + 1)
        return self.workers

    async def _read(self) -> None:
        try:
            self.workers = await asyncio.to_thread(self._inspect)
        except Exception:  # the broker is away: keep what was known, say nothing more
            self.workers = self.workers or []
        self.read_at = time.monotonic()

    def _inspect(self) -> list[JSON]:
        inspector = self.app.control.inspect(timeout=self.timeout_s)
        queues = inspector.active_queues() or {}
        stats = inspector.stats() or {}
        found = []
        for name in sorted(set(queues) | set(stats)):
            info = stats.get(name) or {}
            pids = {info.get("pid"), *((info.get("pool") or {}).get("processes") or [])}
            found.append(
                {
                    "name": name,
                    "queues": sorted(q["name"] for q in queues.get(name) or []),
                    "pids": sorted(int(p) for p in pids if p),
                }
            )
        return found


def status_source(bot: Any) -> Callable[[], Awaitable[JSON]]:
    """The callable the sandbox page reads its job panel from (``page.status_source``)."""
    roll: WorkerRoll | None = None

    async def read() -> JSON:
        nonlocal roll
        try:
            runtime = bot.runtime
        except RuntimeError:
            return {
                "available": False,
                "note": "The bot is starting; its job queue appears here once it is up.",
            }
        if roll is None:
            roll = WorkerRoll(runtime.celery)
        records = await runtime.jobs.list_recent(RECENT_JOBS)
        return summarise(records, await roll.current())

    return read


def summarise(records: list[JobRecord], workers: list[JSON] | None) -> JSON:
    """The panel's JSON: waiting jobs per queue, workers with what they run, and the latest finished."""
    oldest_first = sorted(records, key=lambda r: r.created_at)
    shown_workers = [{"name": w["name"], "queues": w["queues"], "running": []} for w in workers or []]
    unassigned = []
    queues: dict[str, list[JSON]] = {queue_for(m): [] for m in MODALITIES}
    for record in oldest_first:
        queue = queue_for(record.modality)
        if record.status in (JobStatus.WAITING, JobStatus.QUEUED):
            where = "on the broker" if record.status is JobStatus.QUEUED else "waiting for room (admission)"
            queues.setdefault(queue, []).append(_job(record, f"{where} · {queue}"))
        elif record.status is JobStatus.RUNNING:
            index = _worker_of(record.worker, workers or [])
            if index is None:
                unassigned.append(_job(record, f"running · {record.worker or 'a worker'}"))
            else:
                shown_workers[index]["running"].append(
                    _job(record, f"running on {shown_workers[index]['name']}")
                )
    finished = [r for r in records if r.status not in ACTIVE_STATUSES][:FINISHED_SHOWN]
    return {
        "available": True,
        "queues": [{"name": name, "jobs": jobs} for name, jobs in queues.items()],
        "workers": shown_workers,
        "workers_note": None if workers else "No worker answered Celery's inspect (is one running?).",
        "unassigned": unassigned,
        "recent": [_job(r, _finished_where(r)) for r in finished],
    }


def _worker_of(owner: str | None, workers: list[JSON]) -> int | None:
    """The Celery worker whose process ran the job (`host:pid` from the worker's runner)."""
    if not owner or ":" not in owner:
        return None
    host, _, pid = owner.rpartition(":")
    for index, worker in enumerate(workers):
        if (
            pid.isdigit()
            and int(pid) in worker["pids"]
            and worker["name"].split("@", 1)[-1].startswith(host.split(".")[0])
        ):
            return index
    return None


def _finished_where(record: JobRecord) -> str:
    if record.status is JobStatus.HELD:
        return "held for a moderator"
    outcome = record.outcome.value if record.outcome else record.status.value
    return f"{outcome} · {record.worker}" if record.worker else outcome


def _job(record: JobRecord, where: str) -> JSON:
    text = prompt_of(record.job) or describe_job(record.job)
    return {
        "id": record.id,
        "short": record.id[:8],
        "modality": record.modality,
        "status": record.status.value,
        "progress": record.progress,
        "progress_message": record.progress_message,
        "worker": record.worker,
        "user_id": str(record.user_id) if record.user_id else None,
        "channel_id": str(record.channel_id) if record.channel_id else None,
        "prompt": text if len(text) <= 120 else text[:119] + "…",
        "created_at": record.created_at.isoformat(),
        "where": where,
    }
