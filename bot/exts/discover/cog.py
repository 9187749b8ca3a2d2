"""/discover and /similar, the feed's buttons, and the signals discovery listens for: reactions on
Atelier's posts, clicks on result buttons (reroll, variation, extend), deleted results."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

import bot.exts.discover.strings  # noqa: F401  (the feature's words)
from bot.core.checks import owns_or_moderates
from bot.core.client import Interaction
from bot.core.components import ResultButtons
from bot.core.services import Services
from bot.db.jobs import JobRecord
from bot.db.status import JobStatus
from bot.delivery.describe import clip, describe_job, prompt_of
from bot.delivery.target import DiscordTarget
from bot.discovery.repository import ItemRecord, NewItem
from bot.discovery.service import DiscoveryService, Pick
from bot.discovery.signals import MORE_LIKE_THIS, NOT_FOR_ME
from bot.exts.discover.buttons import MoreButton, page_view
from bot.i18n import t
from wire.contract import ImageJob, MusicJob, TextJob, utcnow

log = logging.getLogger(__name__)

ACTIONS = [app_commands.Choice(name=_(a), value=a) for a in ("feed", "optout", "optin")]
MODALITIES = [app_commands.Choice(name=_(m), value=m) for m in ("any", "music", "image", "text")]
ICONS = {"music": "🎵", "image": "🖼️", "text": "📝"}
RESULT_CLICK = re.compile(r"^atelier:(reroll|variation|extend|delete):([0-9a-f]{32})$")
EPHEMERAL_COLOUR = 0x9B59B6


def tags_of(job: MusicJob | ImageJob | TextJob) -> tuple[str, ...]:
    """Style tags a job carries in its options."""
    if isinstance(job, MusicJob):
        o = job.options
        return (o.style, f"{o.key} {o.mode}", *(() if o.accompaniment == "none" else (o.accompaniment,)))
    if isinstance(job, TextJob):
        return (job.options.kind.replace("_", " "),)
    return ()


def item_of(record: JobRecord, target: DiscordTarget) -> NewItem | None:
    """A delivered result as a discovery item (None for what is not a server's success)."""
    if record.outcome is not JobStatus.SUCCEEDED or target.guild_id is None:
        return None
    flagged = bool(((record.result.metadata if record.result else {}).get("safety") or {}).get("flagged"))
    return NewItem(
        id=record.id,
        guild_id=target.guild_id,
        creator_id=record.user_id or target.user_id,
        modality=record.modality,
        prompt=prompt_of(record.job) or describe_job(record.job),
        kind="result",
        tags=tags_of(record.job),
        nsfw=target.age_restricted or flagged,
        channel_id=target.channel_id,
        message_id=target.message_id,
        job_id=record.id,
        created_at=record.finished_at or utcnow(),
    )


def _nsfw_channel(interaction: discord.Interaction[Any]) -> bool:
    return bool(getattr(interaction.channel, "nsfw", False))


def _link(item: ItemRecord, locale: str) -> str:
    if item.channel_id and item.message_id:
        url = f"https://discord.com/channels/{item.guild_id}/{item.channel_id}/{item.message_id}"
        return f" · [{t('discover.open', locale)}]({url})"
    return ""


class DiscoverCog(commands.Cog):
    """Personal feeds of the server's own work (bot/discovery)."""

    def __init__(self, services: Services, discovery: DiscoveryService) -> None:
        self.services = services
        self.discovery = discovery
        self._maintenance: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self._maintenance = asyncio.create_task(self.discovery.run(), name="discovery")

    async def cog_unload(self) -> None:
        if self._maintenance is not None:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._maintenance

    # --- commands --------------------------------------------------------------------------

    @app_commands.command(
        name=_("discover"), description=_("A feed of this server's work picked for you; opt out or back in.")
    )
    @app_commands.guild_only()
    @app_commands.describe(action=_("What to do"), modality=_("Only this kind of work"))
    @app_commands.choices(action=ACTIONS, modality=MODALITIES)
    async def discover(self, interaction: Interaction, action: str = "feed", modality: str = "any") -> None:
        locale = str(interaction.locale.value)
        if not self.services.settings.discovery.enabled:
            await interaction.response.send_message(t("discover.disabled", locale), ephemeral=True)
            return
        if action == "optout":
            deleted = await self.discovery.opt_out(interaction.user.id)
            await interaction.response.send_message(
                t("discover.optout", locale, count=deleted), ephemeral=True
            )
            return
        if action == "optin":
            await self.discovery.opt_in(interaction.user.id)
            await interaction.response.send_message(t("discover.optin", locale), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._send_page(interaction, modality)

    @app_commands.command(name=_("similar"), description=_("Work on this server like one of its results."))
    @app_commands.guild_only()
    @app_commands.describe(job=_("A job id (or the first 6+ characters)"))
    async def similar(self, interaction: Interaction, job: str) -> None:
        locale = str(interaction.locale.value)
        assert interaction.guild_id is not None
        state = await self.discovery.state(interaction.guild_id)
        wanted = job.strip().lower()
        matches = [i for i in state.community.catalogue.rows if len(wanted) >= 6 and i.startswith(wanted)]
        if len(matches) != 1:
            await interaction.response.send_message(
                t("discover.unknown_job", locale, job=clip(wanted, 40)), ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._send_similar(interaction, matches[0], record=False)

    # --- pages -----------------------------------------------------------------------------

    async def _send_page(
        self, interaction: discord.Interaction[Any], modality: str, *, edit: bool = False
    ) -> None:
        assert interaction.guild_id is not None
        locale = str(interaction.locale.value)
        picks = await self.discovery.feed(
            interaction.guild_id,
            interaction.user.id,
            nsfw_allowed=_nsfw_channel(interaction),
            modality=None if modality == "any" else modality,
        )
        note = t("discover.opted_out", locale) if interaction.user.id in self.discovery.opted_out else None
        await self._show_picks(interaction, picks, t("discover.title", locale), modality, note, edit=edit)

    async def _send_similar(
        self, interaction: discord.Interaction[Any], item_id: str, *, record: bool
    ) -> None:
        assert interaction.guild_id is not None
        locale = str(interaction.locale.value)
        if record:
            await self.discovery.record(interaction.guild_id, interaction.user.id, item_id, MORE_LIKE_THIS)
        picks = await self.discovery.similar(
            interaction.guild_id, interaction.user.id, item_id, nsfw_allowed=_nsfw_channel(interaction)
        )
        if picks is None:
            await interaction.followup.send(t("discover.not_indexed", locale), ephemeral=True)
            return
        await self._show_picks(
            interaction,
            picks,
            t("discover.similar_title", locale),
            "any",
            None,
            empty="discover.similar_empty",
        )

    async def _show_picks(
        self,
        interaction: discord.Interaction[Any],
        picks: list[Pick],
        title: str,
        modality: str,
        note: str | None,
        *,
        edit: bool = False,
        empty: str = "discover.empty",
    ) -> None:
        locale = str(interaction.locale.value)
        embed = discord.Embed(title=title, colour=EPHEMERAL_COLOUR)
        if not picks:
            embed.description = t(empty, locale)
            view = None
        else:
            new = self._new_creators(interaction.guild_id or 0, [p.row for p in picks])
            lines = [
                t(
                    "discover.line",
                    locale,
                    n=n,
                    icon=ICONS.get(p.item.modality, "✨"),
                    what=clip(p.item.prompt.replace("\n", " "), 90),
                    creator=f"<@{p.item.creator_id}>",
                    when=discord.utils.format_dt(p.item.created_at, "R"),
                    link=_link(p.item, locale),
                )
                + (t("discover.new_creator", locale) if fresh else "")
                for n, (p, fresh) in enumerate(zip(picks, new, strict=True), start=1)
            ]
            embed.description = "\n".join(lines)
            embed.set_footer(text=t("discover.footer", locale))
            view = page_view([p.item.id for p in picks], modality, locale)
        if note:
            embed.add_field(name="ℹ️", value=note, inline=False)
        kwargs: dict[str, Any] = {"embed": embed}
        if view is not None:
            kwargs["view"] = view
        if edit:  # an empty page loses the last page's buttons
            await interaction.edit_original_response(embed=embed, view=view)
        else:
            await interaction.followup.send(ephemeral=True, **kwargs)

    def _new_creators(self, guild_id: int, rows: list[int]) -> list[bool]:
        state = self.discovery.loaded(guild_id)
        if state is None:
            return [False] * len(rows)
        settings = self.services.settings.discovery
        mask = state.community.catalogue.new_creator_mask(
            self.discovery.clock(), settings.new_creator_days, 3
        )
        return [bool(mask[r]) for r in rows]

    # --- buttons ---------------------------------------------------------------------------

    async def on_next(self, interaction: discord.Interaction[Any], modality: str) -> None:
        await interaction.response.defer()
        await self._send_page(interaction, modality, edit=True)

    async def on_item_button(self, interaction: discord.Interaction[Any], action: str, item_id: str) -> None:
        locale = str(interaction.locale.value)
        if interaction.guild_id is None:
            await interaction.response.send_message(t("discover.gone", locale), ephemeral=True)
            return
        item = await self.discovery.repository.item(item_id)
        if item is None or item.guild_id != interaction.guild_id:  # never across servers
            key = "discover.not_indexed" if action == "more" and len(item_id) == 32 else "discover.gone"
            await interaction.response.send_message(t(key, locale), ephemeral=True)
            return
        if item.nsfw and not _nsfw_channel(interaction):
            await interaction.response.send_message(t("discover.restricted", locale), ephemeral=True)
            return
        if action == "nope":
            await self.discovery.record(interaction.guild_id, interaction.user.id, item_id, NOT_FOR_ME)
            state = self.discovery.loaded(interaction.guild_id)
            row = state.community.catalogue.rows.get(item_id) if state else None
            if state is not None and row is not None:
                state.community.member(interaction.user.id).negatives.add(row)  # off at once, opted out too
            await interaction.response.send_message(t("discover.not_for_me", locale), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        if action == "more":
            await self._send_similar(interaction, item_id, record=True)
            return
        await self.discovery.record(
            interaction.guild_id, interaction.user.id, item_id, "play" if item.modality == "music" else "see"
        )
        await self._show_item(interaction, item)

    async def _show_item(self, interaction: discord.Interaction[Any], item: ItemRecord) -> None:
        locale = str(interaction.locale.value)
        record = await self.services.jobs.get(item.job_id) if item.job_id else None
        view = discord.ui.View(timeout=None).add_item(
            MoreButton(item.id, label=t("discover.more", locale), emoji="➕")
        )
        if record is not None and record.result is not None:
            rendered = await self.services.deliverer.render_result(
                record, interaction.filesize_limit, locale, ResultButtons()
            )
            await interaction.followup.send(
                embed=rendered.embed, files=rendered.discord_files(), view=view, ephemeral=True
            )
            return
        embed = discord.Embed(title=ICONS.get(item.modality, "✨"), colour=EPHEMERAL_COLOUR)
        embed.description = clip(item.prompt, 1500) + _link(item, locale)
        await interaction.followup.send(embed=embed, view=view, ephemeral=True)

    # --- what discovery listens for --------------------------------------------------------

    async def on_delivered(self, record: JobRecord, target: DiscordTarget) -> None:
        """The deliverer's listener: a delivered result becomes an item of its server."""
        item = item_of(record, target)
        if item is not None:
            await self.discovery.add_item(item)

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.guild_id is None or (payload.member is not None and payload.member.bot):
            return
        me = getattr(self.services.deliverer.client, "user", None)
        if me is not None and payload.user_id == me.id:
            return
        item = await self.discovery.repository.item_by_message(payload.guild_id, payload.message_id)
        if item is not None:
            await self.discovery.record(payload.guild_id, payload.user_id, item.id, "reaction")

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Clicks on a result's own buttons are signals too (the results feature does the work)."""
        if interaction.type is not discord.InteractionType.component or interaction.guild_id is None:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        match = RESULT_CLICK.match(custom_id)
        if match is None:
            return
        action, job_id = match.groups()
        try:
            if action == "delete":
                item = await self.discovery.repository.item(job_id)
                if item is not None and owns_or_moderates(interaction, item.creator_id, item.guild_id):
                    await self.discovery.remove_item(job_id)
                return
            await self.discovery.record(interaction.guild_id, interaction.user.id, job_id, action)
        except Exception:
            log.exception("discovery: recording a click on %s failed", custom_id)
