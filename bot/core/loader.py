"""Finding the extensions: every package under `bot.exts` except the `_`-prefixed helpers."""

from __future__ import annotations

import pkgutil

import bot.exts


def extension_names() -> list[str]:
    """Dotted names of all feature packages, sorted."""
    return sorted(
        f"{bot.exts.__name__}.{module.name}"
        for module in pkgutil.iter_modules(bot.exts.__path__)
        if module.ispkg and not module.name.startswith("_")
    )
