"""A minimal bot shaped like Atelier's, for driving the sandbox with the real discord.py client."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable

import discord
from discord import app_commands
from discord.ext import commands

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128


class ArtView(discord.ui.View):
    """One button that answers ephemerally and remembers who clicked."""

    def __init__(self, bot: ArtBot) -> None:
        super().__init__(timeout=60)
        self.bot = bot

    @discord.ui.button(label="Again", custom_id="again", style=discord.ButtonStyle.primary)
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[ArtView]) -> None:
        self.bot.clicks.append(interaction.user.id)
        await interaction.response.send_message("Painting another one", ephemeral=True)

    @discord.ui.button(label="Done", custom_id="done", style=discord.ButtonStyle.secondary)
    async def done(self, interaction: discord.Interaction, button: discord.ui.Button[ArtView]) -> None:
        await interaction.response.edit_message(content="finished", view=None)


class ArtBot(commands.Bot):
    """A minimal bot shaped like Atelier's: defer, work, follow up with a file and a button."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
        )
        self.setup_state(guild_id)

    def setup_state(self, guild_id: int) -> None:
        self.guild = discord.Object(guild_id)
        self.ready = asyncio.Event()
        self.release = asyncio.Event()
        self.clicks: list[int] = []
        self.errors: list[discord.HTTPException] = []
        self.references: list[bytes] = []
        self.callback_message_ids: list[int | None] = []

    async def setup_hook(self) -> None:
        await self.add_cog(ArtCog(self), guild=self.guild)
        self.tree.add_command(hello)

    async def on_ready(self) -> None:
        self.ready.set()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Skip discord.py's 5 s pause before re-identifying; the sandbox has no identify limit."""

    async def guarded(self, action: Awaitable[object]) -> None:
        """Run a Discord call, keeping HTTP errors for the test to inspect."""
        try:
            await action
        except discord.HTTPException as exc:
            self.errors.append(exc)

    async def next_error(self, timeout: float = 5.0) -> discord.HTTPException:
        for _ in range(int(timeout / 0.02)):
            if self.errors:
                return self.errors[0]
            await asyncio.sleep(0.02)
        raise AssertionError("the bot saw no HTTP error")


@app_commands.command(name="hello", description="A global command, usable in DMs")
@app_commands.allowed_contexts(guilds=True, dms=True)
async def hello(interaction: discord.Interaction) -> None:
    where = "a DM" if interaction.guild_id is None else "a guild"
    await interaction.response.send_message(f"hello {interaction.user.name} from {where}")


class ArtCog(commands.Cog):
    def __init__(self, bot: ArtBot) -> None:
        self.bot = bot

    @app_commands.command(name="paint", description="Paint a picture")
    @app_commands.describe(prompt="What to paint", steps="Sampling steps", reference="An image to start from")
    async def paint(
        self,
        interaction: discord.Interaction,
        prompt: str,
        steps: int = 20,
        reference: discord.Attachment | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        if reference is not None:
            self.bot.references.append(await reference.read())
        await self.bot.guarded(
            interaction.followup.send(
                f"{prompt} in {steps} steps",
                file=discord.File(io.BytesIO(PNG), "art.png"),
                view=ArtView(self.bot),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        )

    @app_commands.command(name="palette", description="Pick a colour")
    async def palette(self, interaction: discord.Interaction, colour: str) -> None:
        await interaction.response.send_message(f"colour {colour}")

    @palette.autocomplete("colour")
    async def palette_colours(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        colours = ["red", "rose", "blue"]
        return [app_commands.Choice(name=c, value=c) for c in colours if c.startswith(current)]

    @app_commands.command(name="sketch", description="Answer at once with a file and a button, then edit")
    async def sketch(self, interaction: discord.Interaction) -> None:
        file = discord.File(io.BytesIO(PNG), "sketch.png")
        callback = await interaction.response.send_message("sketch v1", file=file, view=ArtView(self.bot))
        self.bot.callback_message_ids.append(callback.message_id)
        await interaction.edit_original_response(content="sketch v2")

    @app_commands.command(name="ping", description="Answer at once")
    async def ping(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    @app_commands.command(name="slow", description="Answer after the test releases it")
    async def slow(self, interaction: discord.Interaction) -> None:
        await self.bot.release.wait()
        await self.bot.guarded(interaction.response.send_message("finally"))

    @app_commands.command(name="later", description="Defer, then follow up when released")
    async def later(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await self.bot.release.wait()
        await self.bot.guarded(interaction.followup.send("done"))

    @app_commands.command(name="huge", description="Follow up with a file of the given size")
    async def huge(self, interaction: discord.Interaction, size: int) -> None:
        await interaction.response.defer()
        await self.bot.guarded(
            interaction.followup.send(file=discord.File(io.BytesIO(b"x" * size), "huge.bin"))
        )


class ShardedArtBot(commands.AutoShardedBot, ArtBot):
    """The same bot on ``AutoShardedClient`` (shard count from ``GET /gateway/bot``)."""

    def __init__(self, guild_id: int) -> None:
        commands.AutoShardedBot.__init__(
            self,
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
        )
        self.setup_state(guild_id)
