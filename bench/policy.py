"""`make bench` (moderation part): what a server's rules cost an interaction.

In one process, with the server's settings cached as the bot keeps them: the policy check alone
(barred members, channels, presets, defaults, prompt safety with 100 server terms and an AutoMod
rule) and the store with the member's limits checked in the same transaction, against the store
without them, side by side on one SQLite file. Goal (issue 16): the policy check adds at most 1 ms
p50 per interaction.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.figures import row, write
from bot.core.services import prompt_checker
from bot.db.database import open_database
from bot.db.engine import upgrade_database
from bot.db.guilds import GuildSettingsRepository
from bot.db.jobs import JobRepository, MemberQuota
from bot.guilds.automod import AutoModCache
from bot.guilds.policy import GuildPolicy, MemberRequest
from bot.guilds.service import GuildSettingsService
from bot.safety.automod import AutoModRule
from config.settings import load_settings
from wire.contract import ImageJob, TextJob

GUILD, MEMBER, CHANNEL = 1000, 2000, 3000
PROMPTS = [
    "a lighthouse at dusk, watercolour",
    "a haiku about rain on a tin roof",
    "a fox in a snowy forest",
    "neon city at night, cinematic",
    "a blood orange sorbet on a marble table",
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class _Rules(AutoModCache):
    def for_guild(self, guild_id: int) -> tuple[AutoModRule, ...]:
        return (
            AutoModRule.of(
                "words", keyword_filter=[f"word{n}*" for n in range(200)], regex_patterns=[r"b[a4]d+"]
            ),
        )


async def main(rounds: int = 2000, json_path: Path | None = None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="atelier-policy-bench-"))
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await upgrade_database(url)
    database = open_database(url)
    settings = load_settings()
    guilds: GuildSettingsService = GuildSettingsService(GuildSettingsRepository(database), None)
    await guilds.update(
        GUILD,
        lambda s: s.model_copy(update={"blocked_terms": tuple(f"term{n}" for n in range(100))}),
        by=None,
    )
    policy = GuildPolicy(
        guilds,
        settings.moderation,
        prompts=prompt_checker(()),
        automod=_Rules(),
        presets={"text": ("smollm2-135m",), "image": ("sd-turbo",), "music": ("atelier-folk",)},
    )
    request = MemberRequest(GUILD, MEMBER, CHANNEL, roles=(4000,), provided=frozenset({"prompt"}))
    checks = []
    for n in range(rounds):
        job = ImageJob(options={"prompt": PROMPTS[n % len(PROMPTS)]}, guild_id=GUILD, user_id=MEMBER)
        began = time.perf_counter()
        await policy.prepare(job, request)
        checks.append(time.perf_counter() - began)

    jobs = JobRepository(database)
    quota = MemberQuota(daily_jobs=10**9, cooldown_s=0, concurrent_jobs=10**9, queue_cap=10**9)
    with_quota: list[float] = []
    without: list[float] = []
    for n in range(rounds // 2):  # alternate, so noise hits both alike
        for measured, limits in ((without, None), (with_quota, quota)):
            text = TextJob(options={"prompt": "x"}, guild_id=GUILD, user_id=MEMBER + n % 50)
            began = time.perf_counter()
            await jobs.store_admitted(text, None, 10**9, limits)
            measured.append(time.perf_counter() - began)
    await database.close()

    print(f"Moderation — {rounds} checks in one process, settings cached, SQLite store side by side")
    print(
        f"policy check (rules + prompt safety): p50 {statistics.median(checks) * 1e3:.3f} ms, "
        f"p99 {_pct(checks, 0.99) * 1e3:.3f} ms"
    )
    print(
        f"store without limits:                 p50 {statistics.median(without) * 1e3:.3f} ms, "
        f"p99 {_pct(without, 0.99) * 1e3:.3f} ms"
    )
    print(
        f"store with the member's limits:       p50 {statistics.median(with_quota) * 1e3:.3f} ms, "
        f"p99 {_pct(with_quota, 0.99) * 1e3:.3f} ms"
    )
    print("goal: the policy check adds at most 1 ms p50 per interaction")
    if json_path is not None:
        check_p50 = statistics.median(checks) * 1e3
        store = "the store without limits"
        rows = [
            row("policy check p50", check_p50, "ms", goal="≤ 1 ms p50", met=check_p50 <= 1.0),
            row("policy check p99", _pct(checks, 0.99) * 1e3, "ms"),
            row(
                "store with the member's limits p50",
                statistics.median(with_quota) * 1e3,
                "ms",
                baseline=statistics.median(without) * 1e3,
                baseline_label=store,
            ),
            row(
                "store with the member's limits p99",
                _pct(with_quota, 0.99) * 1e3,
                "ms",
                baseline=_pct(without, 0.99) * 1e3,
                baseline_label=store,
            ),
        ]
        write(json_path, "policy", f"Moderation: a server's rules, {rounds} checks", rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=2000, help="policy checks (and half as many stores a side)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (bench.report)")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.json))
