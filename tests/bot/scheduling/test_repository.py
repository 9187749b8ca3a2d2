"""The timers table through TimerRepository: schedule by key, cancel, and the lease (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.db.models import TIMER_STATES
from bot.scheduling.clock import ManualClock
from bot.scheduling.repository import TimerRepository, TimerState
from tests.bot.scheduling.conftest import START

MINUTE = timedelta(minutes=1)


def test_timer_states_match_the_table() -> None:
    assert tuple(state.value for state in TimerState) == TIMER_STATES


async def test_schedule_stores_a_pending_timer(timers: TimerRepository) -> None:
    timer = await timers.schedule(
        "challenge.phase", "challenge:42:voting-opens", START + MINUTE, {"phase": "voting"}, guild_id=7
    )
    assert timer.state is TimerState.PENDING
    assert (timer.kind, timer.key, timer.guild_id) == ("challenge.phase", "challenge:42:voting-opens", 7)
    assert timer.payload == {"phase": "voting"}
    assert timer.due_at == START + MINUTE
    assert timer.attempts == 0
    assert timer.lease_owner is None and timer.lease_expires_at is None and timer.fired_at is None
    assert timer.created_at == START
    assert await timers.get("challenge:42:voting-opens") == timer
    assert await timers.get("challenge:42:nothing") is None


async def test_scheduling_the_same_key_twice_keeps_one_timer(timers: TimerRepository) -> None:
    first = await timers.schedule("reminder", "reminder:1", START + MINUTE, {"text": "hi"}, guild_id=7)
    again = await timers.schedule("reminder", "reminder:1", START + MINUTE, {"text": "hi"}, guild_id=7)
    assert again == first
    assert [timer.id for timer in await timers.list_for_guild(7)] == [first.id]


async def test_rescheduling_a_pending_timer_moves_it(timers: TimerRepository, clock: ManualClock) -> None:
    first = await timers.schedule("reminder", "reminder:1", START + MINUTE, {"text": "hi"}, guild_id=7)
    clock.advance(5)
    moved = await timers.schedule(
        "reminder", "reminder:1", START + 10 * MINUTE, {"text": "later"}, guild_id=7
    )
    assert moved.id == first.id
    assert moved.due_at == START + 10 * MINUTE
    assert moved.payload == {"text": "later"}
    assert moved.state is TimerState.PENDING
    assert moved.created_at == first.created_at and moved.updated_at == START + timedelta(seconds=5)
    assert len(await timers.list_for_guild(7)) == 1
    clock.set(START + 2 * MINUTE)
    assert await timers.claim_due("s1", clock.now(), 60, 10) == []  # no longer due at the old time


async def test_rescheduling_drops_a_lease_so_the_firing_in_progress_cannot_complete(
    timers: TimerRepository, clock: ManualClock
) -> None:
    await timers.schedule("reminder", "reminder:1", START, {"n": 1})
    [claimed] = await timers.claim_due("s1", clock.now(), 60, 10)
    again = await timers.schedule("reminder", "reminder:1", START, {"n": 1})
    assert again.lease_owner == "s1"  # unchanged values: a no-op, the firing goes on
    moved = await timers.schedule("reminder", "reminder:1", START + MINUTE, {"n": 2})
    assert (moved.lease_owner, moved.attempts) == (None, 0)
    assert not await timers.complete(claimed.id, "s1")
    clock.set(START + MINUTE)
    [fires_again] = await timers.claim_due("s2", clock.now(), 60, 10)
    assert fires_again.payload == {"n": 2}


async def test_cancel(timers: TimerRepository, clock: ManualClock) -> None:
    await timers.schedule("reminder", "reminder:1", START, {})
    assert await timers.cancel("reminder:1")
    assert not await timers.cancel("reminder:1")
    assert not await timers.cancel("reminder:unknown")
    cancelled = await timers.get("reminder:1")
    assert cancelled is not None and cancelled.state is TimerState.CANCELLED
    assert await timers.claim_due("s1", clock.now() + MINUTE, 60, 10) == []


async def test_finished_timers_are_left_alone_unless_rearmed(
    timers: TimerRepository, clock: ManualClock
) -> None:
    await timers.schedule("reminder", "done:1", START, {})
    [claimed] = await timers.claim_due("s1", clock.now(), 60, 10)
    assert await timers.complete(claimed.id, "s1")
    await timers.schedule("reminder", "cancelled:1", START, {})
    await timers.cancel("cancelled:1")

    still_done = await timers.schedule("reminder", "done:1", START + MINUTE, {"again": True})
    assert still_done.state is TimerState.DONE and still_done.payload == {}
    still_cancelled = await timers.schedule("reminder", "cancelled:1", START + MINUTE, {})
    assert still_cancelled.state is TimerState.CANCELLED

    rearmed = await timers.schedule("reminder", "cancelled:1", START + MINUTE, {"n": 2}, rearm=True)
    assert rearmed.id == still_cancelled.id
    assert (rearmed.state, rearmed.due_at, rearmed.payload) == (TimerState.PENDING, START + MINUTE, {"n": 2})


async def test_list_and_cancel_a_servers_timers(timers: TimerRepository) -> None:
    await timers.schedule("challenge.phase", "c:1:close", START + 2 * MINUTE, {}, guild_id=1)
    await timers.schedule("challenge.phase", "c:1:open", START + MINUTE, {}, guild_id=1)
    await timers.schedule("reminder", "r:1", START + 3 * MINUTE, {}, guild_id=1)
    await timers.schedule("challenge.phase", "c:2:open", START + MINUTE, {}, guild_id=2)
    assert [timer.key for timer in await timers.list_for_guild(1)] == ["c:1:open", "c:1:close", "r:1"]

    assert await timers.cancel_for_guild(1, kind="challenge.phase") == 2
    assert [timer.key for timer in await timers.list_for_guild(1)] == ["r:1"]
    every = await timers.list_for_guild(1, states=None)
    assert {timer.key: timer.state for timer in every} == {
        "c:1:open": TimerState.CANCELLED,
        "c:1:close": TimerState.CANCELLED,
        "r:1": TimerState.PENDING,
    }
    assert await timers.cancel_for_guild(1) == 1
    assert [timer.key for timer in await timers.list_for_guild(2)] == ["c:2:open"]


async def test_claim_takes_due_pending_unleased_timers_oldest_first(
    timers: TimerRepository, clock: ManualClock
) -> None:
    for minutes, key in [(3, "c"), (-2, "a"), (1, "later"), (-1, "b"), (0, "d")]:
        await timers.schedule("k", key, START + minutes * MINUTE, {})
    await timers.schedule("other", "other-kind", START - 5 * MINUTE, {})

    first = await timers.claim_due("s1", clock.now(), 30, 2, kinds={"k"})
    assert [timer.key for timer in first] == ["a", "b"]
    assert all(timer.lease_owner == "s1" and timer.attempts == 1 for timer in first)
    assert all(timer.lease_expires_at == START + timedelta(seconds=30) for timer in first)

    rest = await timers.claim_due("s2", clock.now(), 30, 10, kinds={"k"})
    assert [timer.key for timer in rest] == ["d"]  # a and b are leased, the others are not due
    assert await timers.claim_due("s2", clock.now(), 30, 10, kinds=set()) == []
    assert [timer.key for timer in await timers.claim_due("s2", clock.now(), 30, 10)] == ["other-kind"]

    clock.advance(30)  # s1's lease lapses
    again = await timers.claim_due("s3", clock.now(), 30, 10, kinds={"k"})
    assert [(timer.key, timer.attempts) for timer in again] == [("a", 2), ("b", 2), ("d", 2)]


async def test_only_the_lease_holder_finishes_a_timer(timers: TimerRepository, clock: ManualClock) -> None:
    await timers.schedule("k", "t", START, {})
    [timer] = await timers.claim_due("s1", clock.now(), 30, 10)
    assert not await timers.complete(timer.id, "s2")
    assert not await timers.fail_attempt(timer.id, "s2", "boom", START + MINUTE)
    assert not await timers.give_up(timer.id, "s2", "boom")
    assert not await timers.release(timer.id, "s2")

    clock.advance(31)
    [taken_over] = await timers.claim_due("s2", clock.now(), 30, 10)
    assert not await timers.complete(timer.id, "s1")  # its lease lapsed and s2 took the timer
    assert await timers.complete(taken_over.id, "s2")
    done = await timers.get("t")
    assert done is not None
    assert (done.state, done.fired_at, done.lease_owner, done.attempts) == (
        TimerState.DONE,
        clock.now(),
        "s2",
        2,
    )
    assert not await timers.complete(timer.id, "s2")  # once


async def test_fail_attempt_moves_the_timer_and_give_up_ends_it(
    timers: TimerRepository, clock: ManualClock
) -> None:
    await timers.schedule("k", "t", START, {})
    [timer] = await timers.claim_due("s1", clock.now(), 30, 10)
    assert await timers.fail_attempt(timer.id, "s1", "boom " * 2000, START + 5 * MINUTE)
    retrying = await timers.get("t")
    assert retrying is not None
    assert (retrying.state, retrying.due_at, retrying.lease_owner) == (
        TimerState.PENDING,
        START + 5 * MINUTE,
        None,
    )
    assert (
        retrying.last_error is not None
        and retrying.last_error.startswith("boom")
        and len(retrying.last_error) == 4000
    )
    assert await timers.claim_due("s1", clock.now() + MINUTE, 30, 10) == []

    [timer] = await timers.claim_due("s1", START + 5 * MINUTE, 30, 10)
    assert timer.attempts == 2
    assert await timers.give_up(timer.id, "s1", "still broken")
    failed = await timers.get("t")
    assert failed is not None and (failed.state, failed.last_error) == (TimerState.FAILED, "still broken")
    assert await timers.claim_due("s1", START + 60 * MINUTE, 30, 10) == []


async def test_release_hands_a_timer_back_untried(timers: TimerRepository, clock: ManualClock) -> None:
    await timers.schedule("k", "t", START, {})
    [timer] = await timers.claim_due("s1", clock.now(), 30, 10)
    assert await timers.release(timer.id, "s1")
    [again] = await timers.claim_due("s2", clock.now(), 30, 10)
    assert (again.attempts, again.lease_owner) == (1, "s2")


async def test_naive_datetimes_and_bad_names_are_refused(timers: TimerRepository) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await timers.schedule("k", "t", datetime(2030, 1, 1), {})
    with pytest.raises(ValueError, match="timezone-aware"):
        await timers.claim_due("s1", datetime(2030, 1, 1), 30, 10)
    with pytest.raises(ValueError, match="key"):
        await timers.schedule("k", "", START, {})
    with pytest.raises(ValueError, match="kind"):
        await timers.schedule("k" * 65, "t", START, {})


async def test_other_time_zones_are_stored_as_the_same_instant(
    timers: TimerRepository, clock: ManualClock
) -> None:
    paris = START.astimezone(ZoneInfo("Europe/Paris"))
    timer = await timers.schedule("k", "t", paris, {})
    assert timer.due_at == START and timer.due_at.tzinfo is UTC
    again = await timers.schedule("k", "t", START, {})
    assert again.updated_at == timer.updated_at  # the same instant: unchanged
    assert [found.key for found in await timers.claim_due("s1", clock.now(), 30, 10)] == ["t"]
