"""Every feature folder under bot/exts is an extension that loads on its own and registers something;
no two commands share a name; the synced payload's hash changes exactly when the payload does.

Nothing here depends on which extension owns which command or button."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path
from typing import Any

import bot.exts
from bot.core.client import AtelierClient
from bot.core.loader import extension_names
from bot.core.sync import STATE_FILE, command_payload, payload_hash, sync_if_changed
from bot.i18n import AtelierTranslator
from config.settings import Settings
from tests.helpers.client import loaded_client

COMMANDS = ["compose", "help", "imagine", "jobs", "verify", "write"]  # at least these
APPLICATION_ID = 1234


def feature_folders() -> list[str]:
    """The packages on disk under bot/exts, `_`-prefixed helpers aside."""
    root = Path(bot.exts.__file__).parent
    return sorted(
        f"bot.exts.{folder.name}"
        for folder in root.iterdir()
        if (folder / "__init__.py").is_file() and not folder.name.startswith("_")
    )


def registered(client: AtelierClient) -> dict[str, Any]:
    """What a client has had registered by its extensions."""
    return {
        "commands": sorted(c.name for c in client.tree.get_commands()),
        "cogs": sorted(client.cogs),
        "result buttons": client.services.result_buttons.names(),
        "delivery gates": client.services.deliverer.gates.names(),
    }


def test_every_feature_folder_is_an_extension_exposing_only_setup() -> None:
    names = extension_names()
    assert names == feature_folders() and len(names) >= len(COMMANDS)
    for name in names:
        module = importlib.import_module(name)
        assert module.__all__ == ["setup"]
        exposed = {n for n, v in vars(module).items() if callable(v) and not n.startswith("_")}
        assert exposed <= {"setup", "teardown"} and "setup" in exposed, exposed


async def test_each_extension_loads_on_its_own_and_registers_something(settings: Settings) -> None:
    async with loaded_client(settings, load=False) as client:
        empty = registered(client)
    for name in extension_names():
        async with loaded_client(settings, load=False) as client:
            await client.load_extension(name)  # no other extension needed first
            added = registered(client)
        assert added != empty, f"{name} registered nothing"


async def test_all_extensions_load_without_duplicate_command_names(settings: Settings) -> None:
    async with loaded_client(settings) as client:  # a duplicate name raises CommandAlreadyRegistered
        names = [c.name for c in client.tree.get_commands()]
        buttons = client.services.result_buttons.names()
    duplicates = [n for n, count in Counter(names).items() if count > 1]
    assert not duplicates
    assert set(COMMANDS) <= set(names)  # the exact set a member sees: tests/bot/e2e/test_commands.py
    assert len(buttons) == len(set(buttons)) and buttons, buttons  # some feature puts buttons on job messages


async def test_payload_declares_limits_and_chinese_translations(settings: Settings) -> None:
    async with loaded_client(settings) as client:
        await client.tree.set_translator(AtelierTranslator())
        payload = {c["name"]: c for c in await command_payload(client.tree, None)}
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


async def translated_hash(client: AtelierClient) -> str:
    await client.tree.set_translator(AtelierTranslator())
    return payload_hash(await command_payload(client.tree, None))


async def test_the_payload_hash_changes_exactly_when_the_payload_does(settings: Settings) -> None:
    async with loaded_client(settings) as first:
        before = await translated_hash(first)
    async with loaded_client(settings) as second:  # another start, nothing changed
        assert await translated_hash(second) == before
        compose = second.tree.get_command("compose")
        assert compose is not None
        compose.description = compose.description + " (now with drums)"
        assert await translated_hash(second) != before


class RecordingSync:
    """Stands in for `tree.sync`: counts the syncs that would have gone to Discord."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, *, guild: Any = None) -> list[Any]:
        self.calls += 1
        return []


async def test_commands_are_synced_only_when_their_payload_changed(
    settings: Settings, tmp_path: Path
) -> None:
    async def sync_once(change: str | None = None) -> tuple[bool, int]:
        async with loaded_client(settings) as client:
            await client.tree.set_translator(AtelierTranslator())
            if change is not None:
                command = client.tree.get_command("write")
                assert command is not None
                command.description = change
            recorder = RecordingSync()
            client.tree.sync = recorder  # type: ignore[method-assign]
            synced = await sync_if_changed(client.tree, APPLICATION_ID, tmp_path, None)
            return synced, recorder.calls

    assert await sync_once() == (True, 1)  # nothing recorded yet
    assert (tmp_path / STATE_FILE).is_file()
    assert await sync_once() == (False, 0)  # a restart with the same commands
    assert await sync_once("Write something else.") == (True, 1)
    assert await sync_once("Write something else.") == (False, 0)


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
