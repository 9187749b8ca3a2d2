"""Fuzz: any file given to `/config import` is imported cleanly or refused with named problems, and
nothing is stored half-way — on SQLite and PostgreSQL, one server's document accumulating across
examples as it would on a real server. (Through the real bot and its command:
tests/bot/fuzz/test_interactions_fuzz.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given

from bot.db.database import open_database
from bot.db.engine import upgrade_database
from bot.db.guilds import GuildSettingsRepository
from bot.guilds.document import ImportRefused, export_settings, import_settings
from bot.guilds.service import GuildSettingsService
from bot.guilds.settings import GuildSettings, parse_settings
from config.settings import ModerationSettings
from tests.bot.guilds.documents import import_files, valid_settings
from tests.helpers.fuzz import examples

GUILD = 4242
OPERATOR = ModerationSettings()


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[GuildSettingsRepository]:
    await upgrade_database(database_url)
    database = open_database(database_url)
    yield GuildSettingsRepository(database)
    await database.close()


def refusal_is_clear(refused: ImportRefused) -> list[str]:
    """What is unclear about a refusal: it must name at least one key, each with a reason."""
    problems = [] if refused.problems else ["no problems named"]
    for problem in refused.problems:
        if not problem.key or not problem.reason:
            problems.append(f"an empty key or reason: {problem!r}")
    return problems


@examples(500)
@given(raw=import_files())
def test_any_file_is_imported_or_refused_with_its_problems_named(raw: bytes) -> None:
    try:
        imported = import_settings(raw, OPERATOR)
    except ImportRefused as refused:
        assert refusal_is_clear(refused) == []
        return
    # what was imported is exactly what an export of it imports again
    assert import_settings(export_settings(imported).encode(), OPERATOR) == imported


@examples(100)
@given(raw=import_files())
async def test_an_import_stores_all_of_the_file_or_nothing(
    raw: bytes, repository: GuildSettingsRepository
) -> None:
    """A refused file leaves the stored document and its version as they were; an accepted one is
    stored whole and reads back equal, from a service with an empty cache."""
    before = await repository.get(GUILD)
    service: GuildSettingsService[GuildSettings] = GuildSettingsService(repository, None)
    try:
        imported = import_settings(raw, OPERATOR)
    except ImportRefused:
        after = await repository.get(GUILD)
        assert (after.version, after.data) == (before.version, before.data)
        return
    await service.update(GUILD, lambda _: imported, by=7)
    stored = await repository.get(GUILD)
    assert stored.version == before.version + 1
    assert parse_settings(stored.data, GuildSettings) == imported
    fresh: GuildSettingsService[GuildSettings] = GuildSettingsService(repository, None)
    assert await fresh.get(GUILD) == imported


@examples(40)
@given(settings=valid_settings())
def test_every_export_imports_back_unchanged(settings: GuildSettings) -> None:
    assert import_settings(export_settings(settings).encode(), OPERATOR) == settings
