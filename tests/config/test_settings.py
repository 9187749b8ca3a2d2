"""Settings: TOML presets, environment overrides, masked secrets, errors that name the key.

Every test runs in an empty working directory with no ATELIER_/DISCORD_ variables of the developer's
shell, so neither a `.env` in the repository nor an exported variable can change its outcome.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings, mask_url
from workers.app import check_limits


@pytest.fixture(autouse=True)
def clean_surroundings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory and an environment without settings of its own."""
    for name in list(os.environ):
        if name.startswith(("ATELIER_", "DISCORD_")):
            monkeypatch.delenv(name)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    yield workdir


def _run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli.main ...` in the (clean) working directory, with `env` added."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=Path.cwd(),
    )


def test_toml_presets_load() -> None:
    settings = load_settings()
    assert settings.default_text_preset in settings.text_presets
    assert "sd-turbo" in settings.image_presets
    assert settings.queue_limits("text").time_limit < settings.visibility_timeout_s


def test_environment_overrides_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_QUEUES__TEXT__TIME_LIMIT", "999")
    monkeypatch.setenv("ATELIER_QUEUES__TEXT__SOFT_TIME_LIMIT", "900")
    settings = load_settings()
    assert settings.queue_limits("text").time_limit == 999
    assert settings.queue_limits("music").time_limit == 180  # untouched


def test_invalid_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_REDIS_URL", "http://nope")
    with pytest.raises(ConfigError, match="ATELIER_REDIS_URL"):
        load_settings()


def test_time_limit_above_visibility_timeout_is_refused() -> None:
    settings = load_settings(visibility_timeout_s=100)
    with pytest.raises(ConfigError, match="ATELIER_VISIBILITY_TIMEOUT_S"):
        check_limits(settings)


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "super-secret-token")
    monkeypatch.setenv("ATELIER_REDIS_URL", "redis://:hunter2@127.0.0.1:6379/0")
    settings = load_settings()
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "super-secret-token"
    shown = str(settings.masked())
    assert "super-secret-token" not in shown and "hunter2" not in shown
    assert "super-secret-token" not in repr(settings)


def test_mask_url_keeps_host() -> None:
    assert mask_url("postgresql+asyncpg://u:pw@db:5432/x") == "postgresql+asyncpg://u:**********@db:5432/x"
    assert mask_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_config_show_cli_masks_the_token_and_the_dotenvs_password(clean_surroundings: Path) -> None:
    (clean_surroundings / ".env").write_text("ATELIER_REDIS_URL=redis://:from-dotenv@10.0.0.9:6379/0\n")
    out = _run_cli("config", "show", DISCORD_TOKEN="tok-abc-123")
    assert out.returncode == 0, out.stderr
    assert "10.0.0.9" in out.stdout and "from-dotenv" not in out.stdout  # the .env here is read, masked
    assert "tok-abc-123" not in out.stdout
    assert '"discord_token": "**********"' in out.stdout


def test_bad_config_fails_at_start_with_the_key() -> None:
    out = _run_cli("config", "show", ATELIER_DATABASE_URL="mysql://x")
    assert out.returncode == 2
    assert "ATELIER_DATABASE_URL" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_dotenv_is_read_from_the_working_directory_only(
    clean_surroundings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`.env` in the directory a process starts in is read (below the environment, above the TOML);
    one anywhere else, such as the repository when the process starts elsewhere, is not."""
    (clean_surroundings / ".env").write_text("ATELIER_LOG_LEVEL=DEBUG\nDISCORD_TOKEN=from-dotenv\n")
    here = load_settings()
    assert here.log_level == "DEBUG"
    assert here.discord_token is not None and here.discord_token.get_secret_value() == "from-dotenv"

    monkeypatch.setenv("ATELIER_LOG_LEVEL", "ERROR")
    assert load_settings().log_level == "ERROR"  # the environment wins over the file
    monkeypatch.delenv("ATELIER_LOG_LEVEL")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    away = load_settings()
    assert away.log_level == "INFO" and away.discord_token is None  # the TOML's, and no token
