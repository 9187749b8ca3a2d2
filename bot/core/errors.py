"""Errors a member caused, carrying the friendly message the error handler shows."""

from __future__ import annotations

from typing import Any

from discord import app_commands


class UserFacingError(app_commands.AppCommandError):
    """A problem with what the member asked; `key` and `values` name a catalog message."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(f"{key}: {values}")
        self.key = key
        self.values = values


class OptionProblem(UserFacingError):
    """One option is invalid; the message names it."""

    def __init__(self, option: str, reason: str) -> None:
        super().__init__("bad_option", option=option, reason=reason)
        self.option = option
