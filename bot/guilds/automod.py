"""Each server's Discord AutoMod keyword rules, as the bot last read them.

AutoMod never sees slash-command options (or the bot's own messages), so the prompt check applies
the server's own rules itself: each enabled keyword rule's filter, regex patterns and allow list,
and each keyword-preset rule's presets (which the prompt check maps to its own lists: Discord does
not publish the preset words). The lists are read when a server becomes available (if the bot
may: it needs Manage Server) and kept current from the AUTO_MODERATION_RULE_* gateway events.
A rule's exempt roles and channels are not applied to prompts.
"""

from __future__ import annotations

import logging

import discord

from bot.safety.automod import AutoModRule

log = logging.getLogger(__name__)


NONE: tuple[AutoModRule, ...] = ()


class AutoModCache:
    """Rules by server and rule id, each kept as the prompt check takes it."""

    def __init__(self) -> None:
        self._rules: dict[int, dict[int, AutoModRule]] = {}
        self.refreshed: dict[int, int] = {}  # guild id -> how many times its rules were read

    def for_guild(self, guild_id: int) -> tuple[AutoModRule, ...]:
        return tuple(self._rules.get(guild_id, {}).values()) or NONE

    def put(self, rule: discord.AutoModRule) -> None:
        """Keep (or drop, if disabled or of a kind prompts cannot match) one rule."""
        rules = self._rules.setdefault(rule.guild.id, {})
        kept = _as_prompt_rule(rule)
        if kept is None:
            rules.pop(rule.id, None)
        else:
            rules[rule.id] = kept

    def remove(self, rule: discord.AutoModRule) -> None:
        self._rules.get(rule.guild.id, {}).pop(rule.id, None)

    async def refresh(self, guild: discord.Guild) -> bool:
        """Read a server's rules again; False (and nothing kept) where the bot may not read them."""
        if not guild.me.guild_permissions.manage_guild:
            self._rules.pop(guild.id, None)
            return False
        try:
            rules = await guild.fetch_automod_rules()
        except discord.HTTPException as error:
            log.warning("could not read the AutoMod rules of guild %s: %s", guild.id, error)
            return False
        self._rules[guild.id] = {}
        for rule in rules:
            self.put(rule)
        self.refreshed[guild.id] = self.refreshed.get(guild.id, 0) + 1
        return True


PRESET_NAMES = {"profanity": "profanity", "sexual_content": "sexual_content", "slurs": "slurs"}


def _as_prompt_rule(rule: discord.AutoModRule) -> AutoModRule | None:
    """A keyword or keyword-preset rule as the prompt check takes it; None for anything else."""
    if not rule.enabled:
        return None
    trigger = rule.trigger
    if trigger.type is discord.AutoModRuleTriggerType.keyword:
        return AutoModRule.of(
            rule.name,
            keyword_filter=trigger.keyword_filter,
            regex_patterns=trigger.regex_patterns,
            allow_list=trigger.allow_list,
        )
    if trigger.type is discord.AutoModRuleTriggerType.keyword_preset and trigger.presets is not None:
        presets = [name for name, value in trigger.presets if value and name in PRESET_NAMES]
        return AutoModRule.of(rule.name, allow_list=trigger.allow_list, presets=presets)
    return None
