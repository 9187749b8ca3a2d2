"""Replies and command strings in English and Simplified Chinese."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands

from bot.i18n import AtelierTranslator, pick_locale, t
from bot.i18n.catalog import COMMAND_STRINGS, MESSAGES


def _import_every_feature() -> None:
    """Features add their own strings when their modules load (`bot.i18n.add_strings`)."""
    import importlib
    import pkgutil

    import bot.exts

    for module in pkgutil.walk_packages(bot.exts.__path__, "bot.exts."):
        importlib.import_module(module.name)


def test_every_message_exists_in_both_languages_with_the_same_placeholders() -> None:
    _import_every_feature()
    assert MESSAGES["en"].keys() == MESSAGES["zh-CN"].keys()
    for key, english in MESSAGES["en"].items():
        assert set(re.findall(r"{(\w+)}", english)) == set(re.findall(r"{(\w+)}", MESSAGES["zh-CN"][key])), (
            key
        )


def test_locale_picking_and_fallback() -> None:
    assert pick_locale(discord.Locale.chinese) == "zh-CN" and pick_locale("zh-TW") == "zh-CN"
    assert pick_locale(discord.Locale.french) == "en" and pick_locale(None) == "en"
    assert t("queued", "zh-CN", position=2) == "已排队 —— 你排在第 **2** 位。"
    assert t("queued", discord.Locale.german, position=2) == "Queued — you are number **2** in line."


async def test_translator_translates_names_and_descriptions_but_not_option_names() -> None:
    translator = AtelierTranslator()
    command: Any = app_commands.TranslationContext(app_commands.TranslationContextLocation.command_name, None)  # type: ignore[call-overload]
    option: Any = app_commands.TranslationContext(
        app_commands.TranslationContextLocation.parameter_name, None
    )  # type: ignore[call-overload]
    assert (
        await translator.translate(app_commands.locale_str("compose"), discord.Locale.chinese, command)
        == "作曲"
    )
    assert (
        await translator.translate(app_commands.locale_str("cancel"), discord.Locale.chinese, option) is None
    )
    assert (
        await translator.translate(app_commands.locale_str("compose"), discord.Locale.french, command) is None
    )
    names = [
        v
        for k, v in COMMAND_STRINGS["zh-CN"].items()
        if k in ("compose", "imagine", "write", "jobs", "help", "verify")
    ]
    assert all(0 < len(n) <= 32 for n in names)


def test_help_is_translated() -> None:
    from bot.exts.help.cog import help_embeds

    english, chinese = help_embeds("en-US"), help_embeds("zh-CN")
    assert (
        [e.title for e in english]
        == [e.title for e in chinese]
        == ["/write", "/compose", "/imagine", "/jobs", "/verify"]
    )
    assert english[0].fields[0].name == "Examples" and chinese[0].fields[0].name == "示例"
    assert chinese[1].description and "MIDI" in chinese[1].description and "曲子" in chinese[1].description


def test_a_feature_adds_its_own_strings_and_cannot_redefine_others() -> None:
    from bot.i18n import add_strings

    add_strings({"en": {"example.hello": "Hello {name}"}, "zh-CN": {"example.hello": "你好 {name}"}})
    assert t("example.hello", "zh-CN", name="A") == "你好 A"
    add_strings({"en": {"example.hello": "Hello {name}"}})  # the same words again: fine
    import pytest

    with pytest.raises(ValueError, match="already defined"):
        add_strings({"en": {"queued": "something else"}})
    MESSAGES["en"].pop("example.hello")
    MESSAGES["zh-CN"].pop("example.hello")
