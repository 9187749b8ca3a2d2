"""A small real discord.py bot with what the page must build from the bot's own registrations: options
with choices, ranges, autocomplete, attachments and French localisations; a modal; a select menu."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

FRENCH = {"echo": "écho", "Repeat what you give": "Répète ce que vous donnez", "colour": "couleur"}


class French(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        return FRENCH.get(string.message) if locale is discord.Locale.french else None


class EntryForm(discord.ui.Modal, title="Your entry"):
    name: discord.ui.TextInput[EntryForm] = discord.ui.TextInput(
        label="Title", custom_id="title", max_length=40
    )
    notes: discord.ui.TextInput[EntryForm] = discord.ui.TextInput(
        label="Notes",
        custom_id="notes",
        style=discord.TextStyle.paragraph,
        required=False,
        default="first draft",
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Entry saved: {self.name.value} ({self.notes.value})")


class Picker(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="flavour-pick",
        placeholder="Pick a flavour",
        options=[discord.SelectOption(label=f.title(), value=f) for f in ("vanilla", "mint", "plum")],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Picker]) -> None:
        await interaction.response.edit_message(
            content=f"{interaction.user.name} picked {select.values[0]}", view=self
        )

    @discord.ui.button(label="Form", custom_id="open-form", style=discord.ButtonStyle.primary)
    async def form(self, interaction: discord.Interaction, button: discord.ui.Button[Picker]) -> None:
        await interaction.response.send_modal(EntryForm())


class FormCog(commands.Cog):
    def __init__(self, bot: FormBot) -> None:
        self.bot = bot

    @app_commands.command(name="echo", description="Repeat what you give")
    @app_commands.describe(
        text="what to repeat", colour="a colour", count="how many times", flavour="typed, with suggestions"
    )
    @app_commands.choices(
        colour=[app_commands.Choice(name="Red", value="red"), app_commands.Choice(name="Blue", value="blue")]
    )
    async def echo(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, 30],
        colour: str = "red",
        count: app_commands.Range[int, 1, 5] = 1,
        flavour: str | None = None,
        file: discord.Attachment | None = None,
        private: bool = False,
    ) -> None:
        self.bot.seen.append(
            {
                "text": text,
                "colour": colour,
                "count": count,
                "flavour": flavour,
                "locale": str(interaction.locale),
            }
        )
        extra = f" + {file.filename} ({file.size} bytes)" if file else ""
        await interaction.response.send_message(
            f"{' '.join([text] * count)} in {colour}, {flavour or 'no flavour'}{extra}", ephemeral=private
        )

    @echo.autocomplete("flavour")
    async def flavours(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=f.title(), value=f)
            for f in ("vanilla", "mint", "plum")
            if f.startswith(current)
        ]

    @app_commands.command(name="pick", description="A message with a select menu and a form button")
    async def pick(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Choose one:", view=Picker())

    @app_commands.command(name="form", description="Open a modal")
    async def form(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(EntryForm())

    @app_commands.command(name="secret", description="Moderators only")
    @app_commands.default_permissions(manage_guild=True)
    async def secret(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("for moderators", ephemeral=True)


class FormBot(commands.Bot):
    def __init__(self, guild_id: int) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
        )
        self.guild = discord.Object(guild_id)
        self.ready = asyncio.Event()
        self.seen: list[dict[str, Any]] = []

    async def setup_hook(self) -> None:
        await self.tree.set_translator(French())
        await self.add_cog(FormCog(self), guild=self.guild)
        self.add_view(Picker())
        await self.tree.sync(guild=self.guild)

    async def on_ready(self) -> None:
        self.ready.set()
