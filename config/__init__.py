"""Atelier's configuration: typed settings from the environment, `.env` and `config/atelier.toml`."""

from config.settings import ConfigError, Settings, get_settings, load_settings

__all__ = ["ConfigError", "Settings", "get_settings", "load_settings"]
