"""Progress edits are throttled to one per second per job and stop once the job is finished."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.core.components import ResultButtons
from bot.delivery.deliverer import FINISHED_KEPT, Deliverer


class CountingDeliverer(Deliverer):
    def __init__(self, interval: float) -> None:
        super().__init__(client=None, runtime=None, buttons=ResultButtons(), progress_interval_s=interval)  # type: ignore[arg-type]
        self.edits: list[str] = []

    async def _edit_progress(self, job_id: str, preview: str | None) -> None:
        self.edits.append(job_id)


async def test_at_most_one_edit_per_interval_per_job() -> None:
    deliverer = CountingDeliverer(0.2)
    for _ in range(10):
        deliverer.progress("a", None)
        deliverer.progress("b", None)
    await asyncio.sleep(0.25)
    deliverer.progress("a", "later")
    await deliverer.drain()
    assert deliverer.edits == ["a", "b", "a"]


async def test_no_progress_edit_after_the_result() -> None:
    deliverer = CountingDeliverer(0.0)
    deliverer._mark_finished("done")
    deliverer.progress("done", None)
    await deliverer.drain()
    assert deliverer.edits == []


async def test_background_tasks_are_awaited_or_cancelled_on_drain() -> None:
    deliverer = CountingDeliverer(0.0)
    slow: Any = deliverer.spawn(asyncio.sleep(10))
    await deliverer.drain(timeout=0.05)
    await asyncio.sleep(0)
    assert slow.cancelled()


def test_finished_jobs_are_remembered_only_up_to_a_bound() -> None:
    deliverer = CountingDeliverer(0.0)
    for n in range(FINISHED_KEPT + 10):
        deliverer._mark_finished(f"job-{n}")
    assert len(deliverer._finished) == FINISHED_KEPT
    assert "job-0" not in deliverer._finished and f"job-{FINISHED_KEPT + 9}" in deliverer._finished
