"""`make bench` (challenges): counting a big challenge, and vote clicks under load.

1. The tally and leaderboard of one challenge with 10,000 entries and 100,000 votes, counted the way
   the bot counts it at the deadline (the database groups the votes; `bot.challenges.tally` places
   them), on a fresh SQLite file. Goal: under 100 ms.
2. Vote clicks at 50 a second for 20 s through the local Discord server and the real bot (in this
   process): how long until each click is answered, p50 and p99. Goal: p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.figures import Row, row, write
from bot.challenges.lifecycle import standings_of
from bot.challenges.model import NewChallenge, Phase
from bot.challenges.repository import ENTRIES, VOTES, ChallengeRepository
from bot.db.database import open_database
from bot.db.engine import upgrade_database
from wire.contract import utcnow


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def tally(entries: int, votes: int) -> list[Row]:
    folder = Path(tempfile.mkdtemp(prefix="atelier-challenge-bench-"))
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await upgrade_database(url)
    database = open_database(url)
    repository = ChallengeRepository(database)
    new = NewChallenge(
        title="Big", brief="b", channel_id=1, opens_at=utcnow(), submission_hours=1, voting_hours=1
    )
    challenge = await repository.create(1, new, 1)
    now = utcnow()
    rng = random.Random(7)

    pairs: set[tuple[int, int]] = set()
    while len(pairs) < votes:  # a few entries get most votes, as in a real contest
        pairs.add((int(rng.paretovariate(1.2)) % entries, 100_000 + rng.randrange(votes // 3)))
    per_entry = [0] * entries
    for index, _ in pairs:
        per_entry[index] += 1

    def fill(connection: Any) -> None:
        connection.execute(
            insert(ENTRIES),
            [
                {
                    "challenge_id": challenge.id,
                    "member_id": 10_000 + n,
                    "job_id": uuid.uuid4().hex,
                    "made_by": "ai",
                    "caption": f"entry {n}",
                    "files": [],
                    "created_at": now,
                    "points": per_entry[n],
                    "votes": per_entry[n],
                }
                for n in range(entries)
            ],
        )
        first = connection.execute(ENTRIES.select().order_by(ENTRIES.c.id).limit(1)).first().id
        connection.execute(
            insert(VOTES),
            [
                {
                    "challenge_id": challenge.id,
                    "entry_id": first + e,
                    "voter_id": v,
                    "place": 0,
                    "created_at": now,
                }
                for e, v in pairs
            ],
        )

    await database.write(fill)
    voting = await repository.move(challenge.id, [Phase.OPEN], Phase.VOTING)
    assert voting is not None
    times = []
    for _ in range(7):
        began = time.perf_counter()
        table = await standings_of(repository, voting)
        times.append(time.perf_counter() - began)
    await database.close()
    print(f"Tally of one challenge — {entries:,} entries, {votes:,} votes, SQLite, 7 runs")
    print(
        f"standings: median {statistics.median(times) * 1000:.1f} ms, worst {max(times) * 1000:.1f} ms "
        f"(first place: {table[0].votes} votes); goal under 100 ms"
    )
    median_ms = statistics.median(times) * 1000
    return [
        row(
            f"tally of {entries:,} entries, {votes:,} votes: median",
            median_ms,
            "ms",
            goal="< 100 ms",
            met=median_ms < 100,
        ),
        row("tally: worst of 7", max(times) * 1000, "ms"),
    ]


async def clicks(rate: float, seconds: float) -> list[Row]:
    """Vote clicks on the posted entries of a challenge in voting, from many members at once."""
    import shutil

    from bench.pipeline import private_redis
    from bot.app import create_bot
    from bot.challenges.lifecycle import open_voting
    from bot.sandbox import SandboxServer, point_discord_at
    from config.settings import load_settings

    tmp = Path(tempfile.mkdtemp(prefix="atelier-vote-bench-"))
    redis_proc, redis_url = private_redis(tmp)
    token = "bench-" + uuid.uuid4().hex
    try:
        async with SandboxServer(token=token) as sandbox:
            point_discord_at(sandbox.api_base, sandbox.gateway_url)
            settings = load_settings(
                redis_url=redis_url,
                database_url=f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
                data_dir=tmp / "var",
                discord_test_guild_id=sandbox.guild_id,
                log_level="WARNING",
                events={"stream": f"bench:{uuid.uuid4().hex[:8]}", "group": "bench"},
            )
            bot = create_bot(settings, consumer_name="bench")
            runner = asyncio.create_task(bot.start(token))
            await sandbox.wait_until_ready(timeout=30)
            await asyncio.wait_for(bot.wait_until_ready(), 30)
            repository = ChallengeRepository(bot.services.database)
            new = NewChallenge(
                title="Bench",
                brief="b",
                channel_id=sandbox.channel_id,
                opens_at=utcnow(),
                submission_hours=1,
                voting_hours=1,
            )
            challenge = await repository.create(sandbox.guild_id, new, sandbox.member_id)
            for n in range(20):
                await repository.add_entry(
                    challenge, 50_000 + n, job_id=uuid.uuid4().hex, made_by="ai", caption=f"e{n}", files=[]
                )
            await open_voting(bot.services.database, challenge.id)
            bot.services.outbox.wake()
            while len([m for m in sandbox.messages() if "Entry " in str(m.get("embeds"))]) < 20:
                await asyncio.sleep(0.2)
            posts = [m for m in sandbox.messages() if "Entry " in str(m.get("embeds"))]
            buttons = [
                (p, c["custom_id"]) for p in posts for row in p["components"] for c in row["components"]
            ]
            voters = [sandbox.world.add_user(f"voter{n}") for n in range(int(rate * seconds))]
            for voter in voters:
                sandbox.world.add_member(sandbox.guild_id, voter)
            latencies: list[float] = []

            async def one(n: int) -> None:
                post, custom_id = buttons[n % len(buttons)]
                began = time.monotonic()
                handle = await sandbox.click_button(post, custom_id, user=voters[n])
                await handle.wait_responded(5.0)
                latencies.append(time.monotonic() - began)

            tasks = []
            start = time.monotonic()
            for n in range(len(voters)):
                delay = start + n / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(n)))
            await asyncio.gather(*tasks)
            votes = sum(n for _, _, n in await repository.vote_counts(challenge.id))
            await bot.close()
            await runner
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"Vote clicks through the local Discord server — {rate:.0f}/s for {seconds:.0f} s, one bot, one process"
    )
    print(
        f"answered {len(latencies)}, votes recorded {votes}; p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {_pct(latencies, 0.99) * 1000:.1f} ms; goal p99 under 100 ms"
    )
    p99_ms = _pct(latencies, 0.99) * 1000
    every = len(latencies) == len(voters) and votes == len(voters)
    return [
        row(f"vote clicks at {rate:.0f}/s: answered p50", statistics.median(latencies) * 1000, "ms"),
        row(f"vote clicks at {rate:.0f}/s: answered p99", p99_ms, "ms", goal="< 100 ms", met=p99_ms < 100),
        row("vote clicks answered and recorded", votes, "votes", goal=f"all {len(voters)}", met=every),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (bench.report)")
    args = parser.parse_args()
    rows = asyncio.run(tally(args.entries, args.votes))
    rows += asyncio.run(clicks(args.rate, args.seconds))
    if args.json is not None:
        write(args.json, "challenge", "Challenges: a big tally, and vote clicks through the bot", rows)
