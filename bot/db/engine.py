"""Engines, sessions and schema upgrades for the bot's database (SQLite or PostgreSQL, both async)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_S = 30.0
# Any constant will do, as long as every Atelier process uses the same one.
POSTGRES_MIGRATION_LOCK_ID = 0x4174656C696572


def create_engine(url: str, **engine_options: Any) -> AsyncEngine:
    """An async engine for `url` (sqlite+aiosqlite:// or postgresql+asyncpg://).

    SQLite: creates the file's folder, and turns on WAL and foreign keys for every connection.
    PostgreSQL: checks pooled connections before use, so a restarted server costs no error.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        sqlite_file(parsed)
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, **engine_options.pop("connect_args", {})}
        engine = create_async_engine(url, connect_args=connect_args, **engine_options)
        event.listen(engine.sync_engine, "connect", configure_sqlite_connection)
        return engine
    engine_options.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **engine_options)


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL, its folder created; None for in-memory databases."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def configure_sqlite_connection(dbapi_connection: Any, connection_record: Any) -> None:
    """Per-connection SQLite settings: readers never block the writer, and foreign keys hold."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose loaded objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration built in code: no alembic.ini is needed at runtime."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # configparser treats % as interpolation; URL-encoded passwords contain it.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade_on_connection(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _downgrade_on_connection(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


@contextlib.asynccontextmanager
async def _sqlite_file_lock(url: str) -> AsyncIterator[None]:
    """Hold an exclusive lock on a file next to a SQLite database (no-op for other databases)."""
    parsed = make_url(url)
    database = parsed.database
    if (
        parsed.get_backend_name() != "sqlite"
        or not database
        or database == ":memory:"
        or database.startswith("file:")
    ):
        yield
        return
    lock_path = Path(database).expanduser().with_name(Path(database).name + ".migrate-lock")
    with lock_path.open("a") as lock_file:
        await asyncio.to_thread(fcntl.flock, lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


async def _migrate(url: str, migrate: Callable[[Connection, Config, str], None], revision: str) -> None:
    """Run one Alembic command on `url`, one process at a time.

    The bot and the scheduler may start together on a fresh database: a PostgreSQL advisory lock
    (held until commit), or a lock file next to the SQLite file, makes the second wait and then find
    the schema already current.
    """
    engine = create_engine(url)
    try:
        async with _sqlite_file_lock(url), engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": POSTGRES_MIGRATION_LOCK_ID}
                )
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # A batch migration rebuilds a table by copying it and dropping the old one; with
                # foreign keys on, that drop would cascade into the rows that refer to it. SQLite
                # takes this pragma only outside a transaction, hence before anything else runs.
                await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.run_sync(migrate, alembic_config(url), revision)
            if sqlite:
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    await connection.rollback()
                    raise RuntimeError(f"the migration broke {len(broken)} foreign keys: {broken[:5]}")
            await connection.commit()
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    finally:
        await engine.dispose()


async def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` up to `revision`; safe to call from inside a running event loop."""
    await _migrate(url, _upgrade_on_connection, revision)


async def downgrade_database(url: str, revision: str) -> None:
    """Take the schema at `url` down to `revision` ("base" removes every table)."""
    await _migrate(url, _downgrade_on_connection, revision)


def upgrade_database_sync(url: str, revision: str = "head") -> None:
    """Blocking form of upgrade_database for CLIs; also works when an event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(upgrade_database(url, revision))
        return
    # A loop is running in this thread: run the upgrade on a loop of its own in another thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, upgrade_database(url, revision)).result()
