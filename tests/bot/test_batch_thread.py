"""BatchThread: items queued together are processed together, each caller gets its own outcome."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.batch_thread import BatchThread, Outcome


async def test_items_waiting_together_form_one_batch_and_keep_their_own_outcomes() -> None:
    gate = threading.Event()
    batches: list[list[int]] = []

    def process(items: list[int]) -> list[Outcome]:
        gate.wait(5)
        batches.append(items)
        return [(False, ValueError(f"odd {i}")) if i % 2 else (True, i * 10) for i in items]

    worker: BatchThread[int] = BatchThread("test-batch", process)
    first = asyncio.ensure_future(worker.submit(0))  # taken alone; holds the thread at the gate
    while worker.batches == 0:
        await asyncio.sleep(0.01)
    rest = [asyncio.ensure_future(worker.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0.05)
    gate.set()
    assert await first == 0
    outcomes = await asyncio.gather(*rest, return_exceptions=True)
    assert outcomes[1] == 20 and outcomes[3] == 40
    assert [str(o) for o in outcomes if isinstance(o, ValueError)] == ["odd 1", "odd 3", "odd 5"]
    assert batches == [[0], [1, 2, 3, 4, 5]]
    await worker.close()


async def test_a_processor_that_crashes_fails_every_caller_of_its_batch() -> None:
    def process(items: list[int]) -> list[Outcome]:
        raise RuntimeError("the processor broke")

    worker: BatchThread[int] = BatchThread("test-batch", process)
    with pytest.raises(RuntimeError, match="the processor broke"):
        await worker.submit(1)
    await worker.close()


async def test_close_finishes_what_is_queued() -> None:
    done: list[int] = []

    def process(items: list[int]) -> list[Outcome]:
        done.extend(items)
        return [(True, None)] * len(items)

    worker: BatchThread[int] = BatchThread("test-batch", process)
    pending = [asyncio.ensure_future(worker.submit(i)) for i in range(20)]
    await asyncio.sleep(0)
    await worker.close()
    await asyncio.gather(*pending)
    assert sorted(done) == list(range(20))
