"""Settings: TOML presets, environment overrides, masked secrets, errors that name the key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from config.settings import ConfigError, load_settings, mask_url
from workers.app import check_limits


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


def test_config_show_cli_masks_the_token() -> None:
    import os

    env = {**os.environ, "DISCORD_TOKEN": "tok-abc-123"}
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "config", "show"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "tok-abc-123" not in out.stdout
    assert '"discord_token": "**********"' in out.stdout


def test_bad_config_fails_at_start_with_the_key() -> None:
    import os

    env = {**os.environ, "ATELIER_DATABASE_URL": "mysql://x"}
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "config", "show"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 2
    assert "ATELIER_DATABASE_URL" in out.stderr
    assert "Traceback" not in out.stderr
