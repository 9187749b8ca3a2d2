"""A server's settings as a TOML file: `/config export` writes one, `/config import` reads one back.

An import is all or nothing: a file that is too large, not TOML, has an unknown key, a value of the
wrong type or out of range, or asks for more than the operator allows is refused with the key and
the reason, and nothing changes.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

import tomli_w
from pydantic import ValidationError

from bot.guilds.limits import capped
from bot.guilds.settings import GuildSettings
from config.settings import ModerationSettings

HEADER = "# Atelier settings for this server: edit, then /config import this file.\n"


@dataclass(frozen=True)
class Problem:
    """One reason an import was refused."""

    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.key}: {self.reason}"


class ImportRefused(ValueError):
    """The file cannot be imported; `problems` names each key and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def export_settings(settings: GuildSettings) -> str:
    """The settings as TOML (every key, defaults included, so the file documents itself)."""
    data = settings.model_dump(mode="json")
    data["limits"] = [{k: v for k, v in row.items() if v is not None} for row in data["limits"]]
    for key in ("queue_cap", "audit_channel_id"):
        if data[key] is None:
            del data[key]
    if data["approval"].get("channel_id") is None:
        data["approval"].pop("channel_id", None)
    return HEADER + tomli_w.dumps(data)


def import_settings(raw: bytes, operator: ModerationSettings) -> GuildSettings:
    """Parse and check a file; the settings it describes, or ImportRefused."""
    if len(raw) > operator.import_max_bytes:
        raise ImportRefused(
            [Problem("(file)", f"is {len(raw)} bytes; the limit is {operator.import_max_bytes}")]
        )
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ImportRefused([Problem("(file)", "is not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as error:
        raise ImportRefused([Problem("(file)", f"is not valid TOML ({error})")]) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ImportRefused([Problem("(file)", "nests arrays or tables too deeply")]) from None
    try:
        settings = GuildSettings.model_validate(data)
    except ValidationError as error:
        raise ImportRefused(
            [
                Problem(".".join(str(p) for p in item["loc"]) or "(settings)", str(item["msg"]))
                for item in error.errors(include_url=False, include_input=False)
            ]
        ) from None
    problems = [
        Problem(c.key, f"{c.asked} is over the operator's limit of {c.allowed}")
        for c in capped(settings, operator)
    ]
    problems += term_problems(settings.blocked_terms, operator)
    if problems:
        raise ImportRefused(problems)
    return settings


def term_problems(terms: tuple[str, ...], operator: ModerationSettings) -> list[Problem]:
    """What is wrong with a list of blocked terms under the operator's limits."""
    problems = []
    if len(terms) > operator.max_blocked_terms:
        problems.append(
            Problem("blocked_terms", f"{len(terms)} terms; the limit is {operator.max_blocked_terms}")
        )
    for index, term in enumerate(terms):
        if len(term) > operator.max_term_length:
            problems.append(
                Problem(
                    f"blocked_terms.{index}",
                    f"is {len(term)} characters; the limit is {operator.max_term_length}",
                )
            )
    return problems


def changed_keys(before: GuildSettings, after: GuildSettings) -> dict[str, tuple[Any, Any]]:
    """Top-level keys whose values differ: key -> (old, new), for the audit log."""
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    return {key: (old[key], new[key]) for key in new if old.get(key) != new[key]}
