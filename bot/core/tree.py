"""The command tree: server-only commands and the one error handler every interaction goes through."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from bot.core.checks import MissingPermissions
from bot.core.errors import UserFacingError
from bot.i18n import t
from bot.metrics import record as metrics
from bot.pipeline.admission import Refused

log = logging.getLogger(__name__)

Option = discord.AppCommandOptionType
VALUE_TYPES: dict[Option, tuple[Callable[[object], bool], str]] = {
    Option.string: (lambda v: isinstance(v, str), "text"),
    Option.integer: (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    Option.number: (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    Option.boolean: (lambda v: isinstance(v, bool), "true or false"),
}
"""What Discord sends for each scalar option type; a modified client could send anything."""
DISCORD_MAX_NUMBER = 2**53
"""Integer and number options lie within ±2^53 (Discord's limit), so within every database integer."""


def _outside_limits(parameter: app_commands.Parameter, value: Any) -> str | None:
    """Why a value of the right type is outside the declared range (or length, for text), or None."""
    low, high = parameter.min_value, parameter.max_value
    text = parameter.type is Option.string
    if parameter.type in (Option.integer, Option.number):  # Discord's own bounds for any number
        low = -DISCORD_MAX_NUMBER if low is None else low
        high = DISCORD_MAX_NUMBER if high is None else high
    if text and "\x00" in value:  # no database text column can hold it (PostgreSQL refuses it)
        return "it must not contain a NUL character"
    size = len(value) if text else value
    unit = " characters" if text else ""
    if low is not None and size < low:
        return f"it must be at least {low}{unit}"
    if high is not None and size > high:
        return f"it must be at most {high}{unit}"
    return None


def _option_with_value(data: Any, value: object) -> str | None:
    """The name of the (possibly nested) option the member gave `value` to."""
    for option in (data or {}).get("options", []) or []:
        if "options" in option:
            found = _option_with_value(option, value)
            if found:
                return found
        elif option.get("value") == value:
            return str(option["name"])
    return None


def friendly_message(interaction: discord.Interaction[Any], error: Exception) -> str | None:
    """The member's message for an error, or None when it is our fault (then it is logged)."""
    locale = interaction.locale
    original = getattr(error, "original", error)
    if isinstance(original, Refused):
        return t(original.key, locale, **original.localized_values(str(locale.value)))
    if isinstance(original, UserFacingError):
        return t(original.key, locale, **original.values)
    if isinstance(error, MissingPermissions):
        names = ", ".join(name.replace("_", " ").title() for name in error.missing)
        return t("missing_permissions", locale, permissions=names)
    if isinstance(error, app_commands.TransformerError):
        option = _option_with_value(interaction.data, error.value) or "?"
        return t("bad_choice", locale, option=option, value=error.value)
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return t("unknown_command", locale)
    if isinstance(error, app_commands.NoPrivateMessage):
        return t("guild_only", locale)
    if isinstance(error, app_commands.CommandOnCooldown):
        return str(error)
    return None


async def send_ephemeral(interaction: discord.Interaction[Any], text: str) -> None:
    """Answer privately, replacing a public "thinking…" reply that has no job behind it."""
    if interaction.type is discord.InteractionType.autocomplete:
        return
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True)
        return
    thinking = interaction.response.type is discord.InteractionResponseType.deferred_channel_message
    if thinking and not interaction.extras.get("queued"):
        try:
            await interaction.delete_original_response()
        except discord.HTTPException as error:
            log.info("could not remove the thinking reply: %s", error)
    await interaction.followup.send(text, ephemeral=True)


class AtelierTree(app_commands.CommandTree[Any]):
    """Refuses DMs politely and turns every error into a friendly private reply."""

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.guild_id is None:
            if interaction.type is discord.InteractionType.application_command:
                await interaction.response.send_message(t("guild_only", interaction.locale), ephemeral=True)
            return False
        if interaction.type is discord.InteractionType.application_command:
            problem = self._option_problem(interaction)
            if problem is not None:
                log.info("interaction %s refused: %s", interaction.id, problem)
                await interaction.response.send_message(
                    t("bad_option", interaction.locale, option=problem[0], reason=problem[1]), ephemeral=True
                )
                return False
        return True

    def _option_problem(self, interaction: discord.Interaction[Any]) -> tuple[str, str] | None:
        """What a modified client sent that the command does not declare: an option it does not have,
        a required one left out, or a value outside its choices (discord.py would ignore the first and
        let the others through). None when the options match the command."""
        data: Any = interaction.data or {}
        try:
            command, options = self._get_app_command_options(data)
        except (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch):
            return None  # the tree answers these itself
        if not isinstance(command, app_commands.Command):
            return None
        given = {str(option.get("name")): option for option in options}
        declared = {parameter.display_name: parameter for parameter in command.parameters}
        for name in given:
            if name not in declared:
                return name, "this command has no such option"
        for name, option in given.items():
            expected = VALUE_TYPES.get(declared[name].type)
            if expected is not None and not expected[0](option.get("value")):
                return name, f"it must be {expected[1]}"
            outside = _outside_limits(declared[name], option.get("value"))
            if outside is not None:
                return name, outside
        for name, parameter in declared.items():
            if parameter.required and name not in given:
                return name, "it is required"
            choices = [choice.value for choice in parameter.choices]
            if choices and name in given and given[name].get("value") not in choices:
                return name, "choose one of the offered values"
        return None

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        text = friendly_message(interaction, error)
        if text is None:
            job_id = interaction.extras.get("job_id")
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error(
                "interaction %s (/%s, job %s) failed",
                interaction.id,
                command,
                job_id or "-",
                exc_info=getattr(error, "original", error),
            )
            text = t("internal", interaction.locale, ref=f" (ref {interaction.id})")
        else:
            log.info("interaction %s refused: %s", interaction.id, text)
            metrics.refused(getattr(getattr(error, "original", error), "key", type(error).__name__))
        try:
            await send_ephemeral(interaction, text)
        except discord.HTTPException as failure:
            log.warning("could not tell the member about an error: %s", failure)
