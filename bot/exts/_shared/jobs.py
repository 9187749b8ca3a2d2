"""Building contract jobs from command options, with errors that name the member's option."""

from __future__ import annotations

import secrets
from typing import Any

import discord

from bot.core.errors import OptionProblem
from bot.db.jobs import CancelOutcome
from wire.contract import MODALITIES, AnyJob, ContractError, parse_job

CANCEL_REPLIES = {
    CancelOutcome.CANCELLED: "cancel_cancelled",
    CancelOutcome.REQUESTED: "cancel_requested",
    CancelOutcome.ALREADY_FINISHED: "cancel_finished",
}
"""The member's answer to a cancel (catalog keys); NOT_FOUND answers "job_not_found"."""

# contract field -> the slash-command option a member typed
OPTION_NAMES = {
    "negative_prompt": "negative",
    "max_new_tokens": "length",
    "width": "size",
    "height": "size",
    "init_artifact": "image",
    "prime_artifact": "midi",
}


def provided_fields(interaction: discord.Interaction[Any], job: AnyJob) -> frozenset[str]:
    """The contract fields the member set in this interaction (a slash command's given options);
    for anything else (a button that copies a job) every field counts as set."""
    if interaction.type is not discord.InteractionType.application_command:
        return frozenset(type(job.options).model_fields)
    data: Any = interaction.data or {}
    given = {str(option["name"]) for option in _leaf_options(data.get("options") or [])}
    return frozenset(name for name in type(job.options).model_fields if OPTION_NAMES.get(name, name) in given)


def _leaf_options(options: list[Any]) -> list[Any]:
    leaves = []
    for option in options:
        leaves += _leaf_options(option["options"]) if "options" in option else [option]
    return leaves


def option_name(error: ContractError) -> tuple[str, str]:
    """The member-facing option name and reason of the first problem in a ContractError."""
    item = error.errors[0]
    loc = [str(part) for part in item["loc"]]
    if loc and loc[0] in MODALITIES:  # the discriminated union names the modality first
        loc = loc[1:]
    field = loc[1] if loc and loc[0] == "options" and len(loc) > 1 else (loc[0] if loc else "options")
    reason = str(item["msg"]).removeprefix("Value error, ")
    return OPTION_NAMES.get(field, field), reason


def build_job(
    modality: str,
    options: dict[str, Any],
    *,
    preset: str | None = None,
    user_id: int | None = None,
    guild_id: int | None = None,
    channel_id: int | None = None,
    parent_id: str | None = None,
) -> AnyJob:
    """Validate options into a job; raise OptionProblem naming the first bad option."""
    payload = {
        "modality": modality,
        "options": {k: v for k, v in options.items() if v is not None},
        "preset": preset or None,
        "user_id": user_id,
        "guild_id": guild_id,
        "channel_id": channel_id,
        "parent_id": parent_id,
    }
    try:
        return parse_job(payload)
    except ContractError as error:
        name, reason = option_name(error)
        raise OptionProblem(name, reason) from None


def job_for(
    interaction: discord.Interaction[Any], modality: str, options: dict[str, Any], **extra: Any
) -> AnyJob:
    """`build_job` with the member, server and channel taken from the interaction."""
    return build_job(
        modality,
        options,
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        **extra,
    )


def new_seed() -> int:
    return secrets.randbelow(2**32)


def remix(job: AnyJob, interaction: discord.Interaction[Any], **changes: Any) -> AnyJob:
    """A new job like `job` (new id, new seed unless given, `parent_id` = job), for the clicking member."""
    options = job.options.model_dump(mode="json")
    options["seed"] = new_seed()
    options.update(changes)
    return job_for(interaction, job.modality, options, preset=job.preset, parent_id=job.id)
