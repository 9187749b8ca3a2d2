"""Alembic environment for Atelier's database, async (SQLite via aiosqlite, PostgreSQL via asyncpg).

Three ways in:
- bot.db.engine.upgrade_database passes an open connection in `config.attributes["connection"]`;
- the `alembic` CLI (`alembic -c bot/db/migrations/alembic.ini upgrade head`) uses the URL from
  `-x url=...`, else `sqlalchemy.url`, else the settings (ATELIER_DATABASE_URL);
- `--sql` (offline) renders the SQL instead of running it.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from bot.db.engine import create_engine
from bot.db.models import Base

alembic_config = context.config
target_metadata = Base.metadata

if alembic_config.config_file_name is not None and "connection" not in alembic_config.attributes:
    fileConfig(alembic_config.config_file_name, disable_existing_loggers=False)


def _database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or alembic_config.get_main_option(
        "sqlalchemy.url"
    )
    if url:
        return url
    from config.settings import get_settings

    return get_settings().database_url


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_new_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure_and_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = alembic_config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
    else:
        asyncio.run(_run_with_new_engine(_database_url()))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
