"""Reading the settings for a command: a bad value stops it with the key named, never a traceback."""

from __future__ import annotations

from rich.console import Console

from config.settings import ConfigError, Settings, load_settings

err_console = Console(stderr=True)


def cli_settings() -> Settings:
    """The effective settings; exit 2 with the message naming each bad key."""
    try:
        return load_settings()
    except ConfigError as error:
        err_console.print(f"[red]{error}[/red]")
        raise SystemExit(2) from None
