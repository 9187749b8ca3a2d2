"""Translating replies (`t`) and command strings (`AtelierTranslator`) from the catalog."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.i18n.catalog import COMMAND_STRINGS, EN, MESSAGES


def pick_locale(locale: discord.Locale | str | None) -> str:
    """The catalog language for a Discord locale: Chinese for zh-CN/zh-TW, English otherwise."""
    value = str(locale.value if isinstance(locale, discord.Locale) else locale or "")
    return "zh-CN" if value.startswith("zh") else EN


def t(key: str, locale: discord.Locale | str | None = None, **values: Any) -> str:
    """The message `key` in the member's language (English when missing), formatted with `values`."""
    lang = pick_locale(locale)
    template = MESSAGES.get(lang, {}).get(key) or MESSAGES[EN][key]
    return template.format(**values) if values else template


class AtelierTranslator(app_commands.Translator):
    """Gives Discord the Chinese names and descriptions of commands, options and choices."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContext[Any, Any],
    ) -> str | None:
        if locale not in (discord.Locale.chinese, discord.Locale.taiwan_chinese):
            return None
        if context.location is app_commands.TranslationContextLocation.parameter_name:
            return None  # option names stay English: members type them, and they are shared with docs
        return COMMAND_STRINGS["zh-CN"].get(string.message)
