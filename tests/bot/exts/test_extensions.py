"""Every extension loads, and no two commands share a name."""

from __future__ import annotations

import importlib
from collections import Counter

from bot.core.client import AtelierClient
from bot.core.loader import extension_names
from bot.core.sync import command_payload, payload_hash
from bot.i18n import AtelierTranslator
from config.settings import Settings
from tests.helpers.client import loaded_client


def test_every_feature_package_is_an_extension_exposing_only_setup() -> None:
    names = extension_names()
    assert names == [
        "bot.exts.compose",
        "bot.exts.help",
        "bot.exts.imagine",
        "bot.exts.jobs",
        "bot.exts.results",
        "bot.exts.verify",
        "bot.exts.write",
    ]
    for name in names:
        module = importlib.import_module(name)
        assert module.__all__ == ["setup"]
        exposed = {n for n, v in vars(module).items() if callable(v) and not n.startswith("_")}
        assert exposed <= {"setup", "teardown"} and "setup" in exposed, exposed


async def test_all_extensions_load_without_duplicate_command_names(settings: Settings) -> None:
    async with loaded_client(settings) as bot:  # a duplicate name raises CommandAlreadyRegistered
        names = [c.name for c in bot.tree.get_commands()]
        assert bot.services.result_buttons.names() == ["results.cancel", "results.remix", "results.delete"]
    duplicates = [n for n, count in Counter(names).items() if count > 1]
    assert not duplicates
    assert sorted(names) == ["compose", "help", "imagine", "jobs", "verify", "write"]


async def test_payload_declares_limits_and_chinese_translations(settings: Settings) -> None:
    async with loaded_client(settings) as bot:
        await check_payload(bot)


async def check_payload(bot: AtelierClient) -> None:
    await bot.tree.set_translator(AtelierTranslator())
    payload = {c["name"]: c for c in await command_payload(bot.tree, None)}
    compose = {o["name"]: o for o in payload["compose"]["options"]}
    assert (compose["tempo"]["min_value"], compose["tempo"]["max_value"]) == (30, 300)
    assert (compose["bars"]["min_value"], compose["bars"]["max_value"]) == (4, 64)
    assert compose["midi"]["type"] == 11 and compose["preset"]["autocomplete"] is True
    assert "name_localizations" not in compose["tempo"] or not compose["tempo"]["name_localizations"]
    assert payload["write"]["name_localizations"]["zh-CN"] == "写作"
    imagine = {o["name"]: o for o in payload["imagine"]["options"]}
    assert (imagine["count"]["min_value"], imagine["count"]["max_value"]) == (1, 4)
    assert imagine["prompt"]["max_length"] == 1000
    for command in ("compose", "imagine", "write", "jobs", "verify"):
        assert payload[command].get("contexts") == [0] or payload[command].get("dm_permission") is False
    assert payload_hash(await command_payload(bot.tree, None)) == payload_hash(
        await command_payload(bot.tree, None)
    )


def test_general_midi_names_cover_every_program() -> None:
    from bot.exts.compose.instruments import GM_PROGRAMS, instrument_choices

    assert len(GM_PROGRAMS) == len(set(GM_PROGRAMS)) == 128
    assert (
        GM_PROGRAMS[0] == "Acoustic Grand Piano"
        and GM_PROGRAMS[40] == "Violin"
        and GM_PROGRAMS[127] == "Gunshot"
    )
    assert [c.value for c in instrument_choices("flute")] == [73, 75]
    assert len(instrument_choices("")) == 25
