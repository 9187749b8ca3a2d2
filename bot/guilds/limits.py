"""What a member may do on a server: the server's settings, within the operator's hard limits.

A member with several roles gets the most generous of their roles' limits (the server's own id is
@everyone, as in Discord); what no role sets comes from the operator's defaults; and nothing goes past
the operator's maxima, which `capped` lists so that /config can say when a value was capped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.db.jobs import MemberQuota
from bot.guilds.settings import SAFETY_LEVELS, GuildSettings, RoleLimits, SafetyLevel
from config.settings import ModerationSettings


@dataclass(frozen=True)
class Capped:
    """A value a server asked for that the operator's limit lowers."""

    key: str
    asked: object
    allowed: object


def member_limits(
    settings: GuildSettings, guild_id: int, roles: Sequence[int], operator: ModerationSettings
) -> MemberQuota:
    """The effective limits of a member with `roles` on the server `guild_id`."""
    rows = [row for role in (*roles, guild_id) if (row := settings.role_limits(role)) is not None]
    daily = _most(rows, "daily_jobs", max, operator.daily_jobs)
    cooldown = _most(rows, "cooldown_s", min, operator.cooldown_s)
    concurrent = _most(rows, "concurrent_jobs", max, operator.concurrent_jobs)
    return MemberQuota(
        daily_jobs=min(daily, operator.max_daily_jobs),
        cooldown_s=cooldown,
        concurrent_jobs=min(concurrent, operator.max_concurrent_jobs),
        queue_cap=queue_cap(settings, guild_id, operator),
    )


def queue_cap(settings: GuildSettings, guild_id: int, operator: ModerationSettings) -> int:
    """The server's cap on jobs waiting or queued: the operator's own value for it, if any, wins."""
    if guild_id in operator.server_queue_caps:
        return operator.server_queue_caps[guild_id]
    return min(settings.queue_cap or operator.queue_cap, operator.max_queue_cap)


def effective_safety(
    settings: GuildSettings, age_restricted: bool, operator: ModerationSettings
) -> SafetyLevel:
    """The level that applies in a channel: `relaxed` only where Discord marks it age-restricted,
    and never more permissive than the operator allows."""
    level = settings.safety
    if level == "relaxed" and not age_restricted:
        level = "standard"
    floor = SAFETY_LEVELS.index(operator.least_strict_safety)
    return SAFETY_LEVELS[min(SAFETY_LEVELS.index(level), floor)]


def capped(settings: GuildSettings, operator: ModerationSettings) -> list[Capped]:
    """The values of `settings` that the operator's limits lower, for /config to say so."""
    found: list[Capped] = []
    for row in settings.limits:
        where = f"limits.{row.role_id}"
        if row.daily_jobs is not None and row.daily_jobs > operator.max_daily_jobs:
            found.append(Capped(f"{where}.daily_jobs", row.daily_jobs, operator.max_daily_jobs))
        if row.concurrent_jobs is not None and row.concurrent_jobs > operator.max_concurrent_jobs:
            found.append(
                Capped(f"{where}.concurrent_jobs", row.concurrent_jobs, operator.max_concurrent_jobs)
            )
    if settings.queue_cap is not None and settings.queue_cap > operator.max_queue_cap:
        found.append(Capped("queue_cap", settings.queue_cap, operator.max_queue_cap))
    if SAFETY_LEVELS.index(settings.safety) > SAFETY_LEVELS.index(operator.least_strict_safety):
        found.append(Capped("safety", settings.safety, operator.least_strict_safety))
    return found


def _most(rows: list[RoleLimits], field: str, pick: Callable[[Iterable[int]], int], default: int) -> int:
    values = [value for row in rows if (value := getattr(row, field)) is not None]
    return int(pick(values)) if values else default
