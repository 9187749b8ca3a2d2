"""TimerRunner: due timers fire once, missed ones catch up in order, failures retry then fail, racing
runners and expired leases never fire a timer twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta

import pytest

from bot.scheduling.clock import ManualClock
from bot.scheduling.handlers import HandlerRegistry, TimerContext
from bot.scheduling.repository import Timer, TimerRepository, TimerState
from bot.scheduling.runner import TimerRunner, exponential_backoff
from tests.bot.scheduling.conftest import START
from tests.polling import wait_until

MINUTE = timedelta(minutes=1)


class Recorder:
    """Handlers that note each timer they fire, in order; `fail` makes a kind raise."""

    def __init__(self) -> None:
        self.fired: list[str] = []
        self.failures: dict[str, int] = {}

    async def ok(self, timer: Timer, context: TimerContext) -> None:
        self.fired.append(timer.key)

    async def flaky(self, timer: Timer, context: TimerContext) -> None:
        self.failures[timer.key] = self.failures.get(timer.key, 0) + 1
        if self.failures[timer.key] <= timer.payload.get("fail_times", 10**6):
            raise RuntimeError(f"{timer.key} broke")
        self.fired.append(timer.key)


def runner(
    timers: TimerRepository, handlers: HandlerRegistry, clock: ManualClock, **options: object
) -> TimerRunner:
    settings: dict[str, object] = {"owner": "runner-1", "lease_s": 60.0, "poll_s": 1.0, "max_attempts": 3}
    settings.update(options)
    return TimerRunner(timers, handlers, clock, **settings)  # type: ignore[arg-type]


def test_registry() -> None:
    registry = HandlerRegistry()
    recorder = Recorder()

    @registry.handler("b")
    async def b(timer: Timer, context: TimerContext) -> None: ...

    registry.register("a", recorder.ok)
    assert list(registry) == ["a", "b"] and "a" in registry and len(registry) == 2
    assert registry.get("a") == recorder.ok and registry.get("c") is None
    with pytest.raises(ValueError, match="already has a handler"):
        registry.register("a", recorder.flaky)
    registry.register("a", recorder.flaky, replace=True)
    assert registry.get("a") == recorder.flaky


def test_backoff_grows_to_its_cap() -> None:
    backoff = exponential_backoff(10, 2, 60)
    assert [backoff(attempt) for attempt in range(1, 6)] == [10, 20, 40, 60, 60]


async def test_due_timers_fire_once_and_are_done(timers: TimerRepository, clock: ManualClock) -> None:
    recorder = Recorder()
    timer_runner = runner(timers, HandlerRegistry({"k": recorder.ok}), clock)
    await timers.schedule("k", "now", START, {})
    await timers.schedule("k", "soon", START + MINUTE, {})

    report = await timer_runner.run_once()
    assert report.fired == ["now"] and recorder.fired == ["now"]
    done = await timers.get("now")
    assert done is not None and (done.state, done.fired_at, done.attempts) == (TimerState.DONE, START, 1)
    assert (await timer_runner.run_once()).claimed == 0

    clock.advance(MINUTE)
    assert (await timer_runner.run_once()).fired == ["soon"]
    assert (await timer_runner.run_once()).claimed == 0
    assert recorder.fired == ["now", "soon"]


async def test_timers_missed_while_down_fire_in_due_order_on_the_first_pass(
    timers: TimerRepository, clock: ManualClock
) -> None:
    due = {f"missed:{n}": START - timedelta(hours=n) for n in (3, 1, 7, 2, 5)}
    for key, at in due.items():
        await timers.schedule("k", key, at, {})
    await timers.schedule("k", "future", START + MINUTE, {})
    recorder = Recorder()

    report = await runner(timers, HandlerRegistry({"k": recorder.ok}), clock).run_once()
    in_due_order = sorted(due, key=due.__getitem__)
    assert recorder.fired == report.fired == in_due_order
    assert [timer.key for timer in await timers.claim_due("x", clock.now(), 1, 10)] == []


async def test_a_backlog_larger_than_a_batch_fires_oldest_first(
    timers: TimerRepository, clock: ManualClock
) -> None:
    keys = [f"backlog:{n:02d}" for n in range(11)]
    for n, key in enumerate(keys):
        await timers.schedule("k", key, START - timedelta(minutes=100 - n), {})
    recorder = Recorder()
    timer_runner = runner(timers, HandlerRegistry({"k": recorder.ok}), clock, batch_size=4)
    while (await timer_runner.run_once()).claimed:
        pass
    assert recorder.fired == keys


async def test_a_failing_handler_is_retried_with_backoff_then_failed_while_others_fire(
    timers: TimerRepository, clock: ManualClock
) -> None:
    recorder = Recorder()
    handlers = HandlerRegistry({"flaky": recorder.flaky, "ok": recorder.ok})
    timer_runner = runner(timers, handlers, clock, backoff=exponential_backoff(10, 2, 3600))
    await timers.schedule("flaky", "broken", START - MINUTE, {})
    await timers.schedule("ok", "fine-1", START, {})
    await timers.schedule("ok", "fine-2", START + timedelta(seconds=15), {})

    first = await timer_runner.run_once()
    assert (first.retried, first.fired) == (["broken"], ["fine-1"])
    broken = await timers.get("broken")
    assert broken is not None
    assert (broken.state, broken.attempts, broken.due_at) == (
        TimerState.PENDING,
        1,
        START + timedelta(seconds=10),
    )
    assert broken.last_error == "RuntimeError: broken broke"

    clock.advance(9)
    assert (await timer_runner.run_once()).claimed == 0  # backing off
    clock.advance(1)
    assert (await timer_runner.run_once()).retried == ["broken"]  # attempt 2, next in 20 s
    clock.advance(5)
    assert (await timer_runner.run_once()).fired == ["fine-2"]
    clock.advance(14)
    assert (await timer_runner.run_once()).claimed == 0
    clock.advance(1)
    last = await timer_runner.run_once()
    assert last.failed == ["broken"]  # attempt 3 of 3

    failed = await timers.get("broken")
    assert failed is not None
    assert (failed.state, failed.attempts, failed.last_error) == (
        TimerState.FAILED,
        3,
        "RuntimeError: broken broke",
    )
    clock.advance(timedelta(days=1))
    assert (await timer_runner.run_once()).claimed == 0
    assert recorder.failures == {"broken": 3}
    assert recorder.fired == ["fine-1", "fine-2"]


async def test_a_handler_that_recovers_on_a_retry_ends_done(
    timers: TimerRepository, clock: ManualClock
) -> None:
    recorder = Recorder()
    timer_runner = runner(timers, HandlerRegistry({"flaky": recorder.flaky}), clock, backoff=lambda _: 5.0)
    await timers.schedule("flaky", "once-broken", START, {"fail_times": 1})
    assert (await timer_runner.run_once()).retried == ["once-broken"]
    clock.advance(5)
    assert (await timer_runner.run_once()).fired == ["once-broken"]
    done = await timers.get("once-broken")
    assert done is not None and (done.state, done.attempts) == (TimerState.DONE, 2)
    assert done.last_error == "RuntimeError: once-broken broke"  # the history stays


async def test_a_handler_past_its_timeout_is_cut_off_and_retried(
    timers: TimerRepository, clock: ManualClock
) -> None:
    started = asyncio.Event()

    async def hangs(timer: Timer, context: TimerContext) -> None:
        started.set()
        await asyncio.Event().wait()

    timer_runner = runner(timers, HandlerRegistry({"hangs": hangs}), clock, handler_timeout_s=0.05)
    await timers.schedule("hangs", "hung", START, {})
    report = await timer_runner.run_once()
    assert started.is_set() and report.retried == ["hung"]
    hung = await timers.get("hung")
    assert hung is not None and hung.last_error is not None and hung.last_error.startswith("TimeoutError")


async def test_racing_runners_fire_each_timer_exactly_once(timers_url: str, timers: TimerRepository) -> None:
    """Four runners, each in its own thread with its own event loop and database connections, on
    the same database; handlers yield in the middle so the runners interleave."""
    keys = [f"race:{n:03d}" for n in range(150)]
    for n, key in enumerate(keys):
        await timers.schedule("race", key, START - timedelta(seconds=n), {})
    fired: list[tuple[str, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def run_one_runner(owner: str) -> None:
        async def race() -> None:
            clock = ManualClock(START)
            repository = TimerRepository.open(timers_url, clock)

            async def handler(timer: Timer, context: TimerContext) -> None:
                with lock:
                    fired.append((timer.key, owner))
                await asyncio.sleep(0.001)

            timer_runner = TimerRunner(
                repository, HandlerRegistry({"race": handler}), clock, owner, lease_s=600, batch_size=5
            )
            try:
                barrier.wait(timeout=60)
                while (await timer_runner.run_once()).claimed:
                    pass
            finally:
                await repository.close()

        asyncio.run(race())

    await asyncio.wait_for(
        asyncio.gather(*(asyncio.to_thread(run_one_runner, f"runner-{n}") for n in range(4))), timeout=240
    )
    assert sorted(key for key, _ in fired) == keys  # every one, none twice
    for key in keys:
        timer = await timers.get(key)
        assert timer is not None and (timer.state, timer.attempts) == (TimerState.DONE, 1)
        assert (timer.key, timer.lease_owner) in fired


async def test_an_expired_lease_lets_another_runner_fire_it(
    timers: TimerRepository, clock: ManualClock
) -> None:
    await timers.schedule("k", "orphan", START, {})
    [claimed] = await timers.claim_due("dead-runner", clock.now(), 30, 10)  # then it "died"
    recorder = Recorder()
    survivor = runner(timers, HandlerRegistry({"k": recorder.ok}), clock, owner="survivor", lease_s=10)

    assert (await survivor.run_once()).claimed == 0  # still leased
    clock.advance(29)
    assert (await survivor.run_once()).claimed == 0
    clock.advance(1)
    assert (await survivor.run_once()).fired == ["orphan"]
    assert not await timers.complete(claimed.id, "dead-runner")  # a late outcome is refused
    done = await timers.get("orphan")
    assert done is not None and (done.state, done.attempts, done.lease_owner) == (
        TimerState.DONE,
        2,
        "survivor",
    )
    assert recorder.fired == ["orphan"]


async def test_a_timer_whose_scheduler_keeps_dying_is_given_up(
    timers: TimerRepository, clock: ManualClock
) -> None:
    await timers.schedule("k", "poison", START, {})
    for n in range(3):  # three schedulers died firing it
        assert await timers.claim_due(f"dead-{n}", clock.now(), 30, 10)
        clock.advance(30)
    recorder = Recorder()
    report = await runner(timers, HandlerRegistry({"k": recorder.ok}), clock, max_attempts=3).run_once()
    assert report.failed == ["poison"] and recorder.fired == []
    poison = await timers.get("poison")
    assert poison is not None and poison.state is TimerState.FAILED
    assert poison.last_error is not None and "claimed 3 times with no outcome" in poison.last_error


async def test_unknown_kinds_stay_pending_and_never_hold_up_the_others(
    timers: TimerRepository, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(5):
        await timers.schedule(
            "from-a-newer-version", f"unknown:{n}", START - timedelta(hours=1, minutes=n), {}
        )
    await timers.schedule("k", "known", START, {})
    recorder = Recorder()
    with caplog.at_level(logging.WARNING, logger="bot.scheduling.runner"):
        report = await runner(timers, HandlerRegistry({"k": recorder.ok}), clock, batch_size=2).run_once()
    assert report.fired == ["known"]
    assert "5 due timer(s) of kind 'from-a-newer-version' have no handler" in caplog.text
    for n in range(5):
        unknown = await timers.get(f"unknown:{n}")
        assert unknown is not None
        assert (unknown.state, unknown.attempts, unknown.lease_owner) == (TimerState.PENDING, 0, None)

    newer = HandlerRegistry({"k": recorder.ok, "from-a-newer-version": recorder.ok})
    assert len((await runner(timers, newer, clock, owner="upgraded").run_once()).fired) == 5


async def test_timers_left_with_too_little_lease_are_handed_back_untried(
    timers: TimerRepository, clock: ManualClock
) -> None:
    recorder = Recorder()

    async def slow(timer: Timer, context: TimerContext) -> None:
        recorder.fired.append(timer.key)
        clock.advance(40)  # it took 40 of the 60 s lease

    timer_runner = runner(timers, HandlerRegistry({"k": slow}), clock, lease_s=60)
    await timers.schedule("k", "first", START - MINUTE, {})
    await timers.schedule("k", "second", START, {})
    report = await timer_runner.run_once()
    assert (report.fired, report.released) == (["first"], ["second"])
    second = await timers.get("second")
    assert second is not None and (second.state, second.attempts, second.lease_owner) == (
        TimerState.PENDING,
        0,
        None,
    )
    assert (await timer_runner.run_once()).fired == ["second"]


async def test_a_timer_cancelled_while_firing_is_not_marked_done(
    timers: TimerRepository, clock: ManualClock
) -> None:
    async def cancels_itself(timer: Timer, context: TimerContext) -> None:
        await context.timers.cancel(timer.key)

    await timers.schedule("k", "c", START, {})
    report = await runner(timers, HandlerRegistry({"k": cancels_itself}), clock).run_once()
    assert report.lost == ["c"]
    cancelled = await timers.get("c")
    assert cancelled is not None and cancelled.state is TimerState.CANCELLED


async def test_handlers_can_schedule_follow_ups(timers: TimerRepository, clock: ManualClock) -> None:
    fired: list[str] = []

    async def phase(timer: Timer, context: TimerContext) -> None:
        fired.append(timer.key)
        if timer.payload["phase"] == "voting":
            await context.timers.schedule(
                "phase", "challenge:1:results", context.clock.now() + MINUTE, {"phase": "results"}
            )

    timer_runner = runner(timers, HandlerRegistry({"phase": phase}), clock)
    await timers.schedule("phase", "challenge:1:voting", START, {"phase": "voting"})
    await timer_runner.run_once()
    clock.advance(MINUTE)
    await timer_runner.run_once()
    assert fired == ["challenge:1:voting", "challenge:1:results"]


async def test_run_forever_polls_on_its_clock_and_stops_when_told(
    timers: TimerRepository, clock: ManualClock
) -> None:
    recorder = Recorder()
    timer_runner = runner(timers, HandlerRegistry({"k": recorder.ok}), clock, poll_s=5)
    stop = asyncio.Event()
    loop = asyncio.create_task(timer_runner.run_forever(stop))
    try:
        await wait_until(lambda: clock.sleepers == 1, timeout=60, interval=0.01)  # its first pause
        await timers.schedule("k", "while-running", START + timedelta(seconds=3), {})
        clock.advance(5)
        await wait_until(lambda: recorder.fired == ["while-running"], timeout=60, interval=0.01)
        stop.set()
        await asyncio.wait_for(loop, timeout=60)
    finally:
        loop.cancel()
    done = await timers.get("while-running")
    assert done is not None and done.state is TimerState.DONE
