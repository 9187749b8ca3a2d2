"""The services a feature is handed: one object, made when the bot starts, typed for every cog.

Features reach the database only through repositories and services here, and Discord only through
their interaction or the deliverer; none of them builds its own connections.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import discord
import redis.asyncio as aioredis

from bot.core.components import ResultButtons
from bot.db.audit import AuditRepository
from bot.db.database import Database
from bot.db.guilds import GuildSettingsRepository
from bot.db.jobs import JobRepository
from bot.db.outbox import OutboxRepository
from bot.delivery.deliverer import Deliverer
from bot.delivery.outbox import OutboxPoster
from bot.guilds.audit import AuditService
from bot.guilds.policy import GuildPolicy
from bot.guilds.service import GuildSettingsService
from bot.guilds.settings import GuildSettings
from bot.pipeline.service import JobService
from bot.runtime import Runtime
from bot.safety.checker import PromptChecker
from bot.scheduling.repository import TimerRepository
from config.settings import Settings
from wire.artifacts import ArtifactStore
from wire.contract import MODALITIES


@dataclass(frozen=True)
class Services:
    """Everything a cog, button or modal may use."""

    settings: Settings
    jobs: JobRepository
    """Read jobs (a member's, one by id); writes go through `pipeline`."""
    pipeline: JobService
    """Submit (through admission) and cancel jobs."""
    guilds: GuildSettingsService[GuildSettings]
    """Each server's settings, cached; every write invalidates the cache everywhere."""
    store: ArtifactStore
    redis: aioredis.Redis
    deliverer: Deliverer
    """Puts results into Discord, once."""
    result_buttons: ResultButtons
    """Features add the buttons they want on job messages here (in their `setup`)."""
    policy: GuildPolicy
    """Each server's rules for a job (barred members, channels, presets, defaults, safety)."""
    audit: AuditService
    """Record and post what moderators change and what the bot refuses."""
    outbox: OutboxPoster
    """Posts what was decided elsewhere (announcements, reminders); features add senders by kind."""
    timers: TimerRepository
    """Durable timers, fired by the scheduler process (a feature's deadlines)."""
    database: Database
    """Where a feature's own repository runs its units of work."""
    extras: dict[str, Any] = field(default_factory=dict)
    """A place for a feature to leave its own service for its buttons (by the feature's name)."""

    @classmethod
    def build(cls, client: discord.Client, runtime: Runtime) -> Services:
        """The services of a bot process, on its runtime (database, Redis, Celery producer)."""
        buttons = ResultButtons()
        guilds: GuildSettingsService[GuildSettings] = GuildSettingsService(
            GuildSettingsRepository(runtime.database), runtime.redis
        )
        audit = AuditService(AuditRepository(runtime.database), guilds, client)
        return cls(
            settings=runtime.settings,
            jobs=runtime.jobs,
            pipeline=runtime.service,
            guilds=guilds,
            store=runtime.store,
            redis=runtime.redis,
            deliverer=Deliverer(client, runtime, buttons),
            result_buttons=buttons,
            policy=GuildPolicy(
                guilds,
                runtime.settings.moderation,
                audit,
                prompts=prompt_checker(tuple(runtime.settings.moderation.blocked_terms)),
                presets={m: tuple(getattr(runtime.settings, f"{m}_presets")) for m in MODALITIES},
            ),
            audit=audit,
            outbox=OutboxPoster(OutboxRepository(runtime.database), runtime.redis),
            timers=TimerRepository(runtime.database),
            database=runtime.database,
        )


@functools.cache
def prompt_checker(operator_terms: tuple[str, ...]) -> PromptChecker:
    """The prompt check, built once per process (its classifiers take a moment to load)."""
    return PromptChecker(operator_terms)
