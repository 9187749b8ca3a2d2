"""`/config show`: a server's settings as one readable message, with what the operator caps."""

from __future__ import annotations

import discord

from bot.guilds.limits import capped, member_limits, queue_cap
from bot.guilds.settings import COMMAND_OF, GuildSettings
from bot.i18n import t
from config.settings import ModerationSettings

COLOUR = 0x5865F2
LINE_MAX = 330
"""A command's line in the Commands field: three of them fit Discord's 1,024 characters per field
(a server may allow dozens of channels, or set long defaults)."""


def settings_embed(
    settings: GuildSettings, guild_id: int, operator: ModerationSettings, locale: str
) -> discord.Embed:
    """Each group of settings as a field; values the operator caps are listed at the end."""
    embed = discord.Embed(title=t("config.show_title", locale), colour=COLOUR)
    lines = []
    for modality, command in COMMAND_OF.items():
        rules = settings.rules(modality)
        state = "on" if rules.enabled else "**off**"
        where = " ".join(f"<#{c}>" for c in rules.channels) or "any channel"
        presets = ", ".join(rules.presets) or "all presets"
        defaults = ", ".join(f"{k}={v}" for k, v in rules.defaults.items())
        line = f"`/{command}` {state} · {where} · {presets}" + (
            f" · defaults: {defaults}" if defaults else ""
        )
        lines.append(line if len(line) <= LINE_MAX else line[: LINE_MAX - 1] + "…")
    embed.add_field(name="Commands", value="\n".join(lines), inline=False)

    everyone = member_limits(settings, guild_id, (), operator)
    limit_lines = [
        f"@everyone: {everyone.daily_jobs}/day, {everyone.concurrent_jobs} at once, "
        f"{everyone.cooldown_s} s between jobs"
    ]
    for row in settings.limits:
        if row.role_id == guild_id:
            continue
        parts = [
            f"{row.daily_jobs}/day" if row.daily_jobs is not None else None,
            f"{row.concurrent_jobs} at once" if row.concurrent_jobs is not None else None,
            f"{row.cooldown_s} s between jobs" if row.cooldown_s is not None else None,
        ]
        limit_lines.append(f"<@&{row.role_id}>: " + ", ".join(p for p in parts if p))
    limit_lines.append(f"server queue: {queue_cap(settings, guild_id, operator)} jobs waiting at once")
    embed.add_field(name="Limits", value="\n".join(limit_lines)[:1024], inline=False)

    safety = [
        f"level: **{settings.safety}** (relaxed applies only in age-restricted channels)",
        f"blocked terms: {len(settings.blocked_terms)} (`/config blocked list`)",
        f"AutoMod keyword rules: {'applied' if settings.use_automod else 'not applied'}",
        f"barred members: {len(settings.barred)}",
    ]
    embed.add_field(name="Safety", value="\n".join(safety), inline=False)
    approval = (
        f"on, in <#{settings.approval.channel_id}>"
        if settings.approval.enabled and settings.approval.channel_id
        else "off"
    )
    audit = f"<#{settings.audit_channel_id}>" if settings.audit_channel_id else "not posted"
    embed.add_field(name="Moderation", value=f"approval: {approval}\naudit log: {audit}", inline=False)
    caps = capped(settings, operator)
    if caps:
        items = ", ".join(f"`{c.key}` {c.asked} → {c.allowed}" for c in caps)
        embed.set_footer(text=t("config.capped_note", locale, items=items)[:2048])
    return embed
