"""/config: moderators shape Atelier for their server, without touching a file.

Hidden from members by Discord (`default_permissions` = Manage Server; admins may narrow it further
in the server's Integrations settings) and checked again on every subcommand here, since a crafted
interaction can reach the bot anyway: a refusal is audited. Every change is audited with who
changed what, and the old and new value.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _

from bot.core.checks import MissingPermissions, ensure_permissions
from bot.core.client import Interaction
from bot.core.services import Services
from bot.db.guilds import StaleSettingsError
from bot.exts._shared.uploads import MIB, UploadRule, check_metadata, fetch_checked
from bot.exts.config import strings as _strings  # noqa: F401  (the words of /config)
from bot.exts.config.show import settings_embed
from bot.guilds.document import (
    ImportRefused,
    Problem,
    changed_keys,
    export_settings,
    import_settings,
    term_problems,
)
from bot.guilds.limits import capped
from bot.guilds.settings import COMMAND_OF, SAFETY_LEVELS, Approval, GuildSettings, ModalityRules, RoleLimits
from bot.i18n import t
from wire.contract import (
    MODALITIES,
    ContractError,
    ImageOptions,
    Modality,
    MusicOptions,
    TextOptions,
    parse_job,
)

MODALITY_CHOICES = [app_commands.Choice(name=m, value=m) for m in MODALITIES]
COMMAND_CHOICES = [app_commands.Choice(name=f"/{c}", value=m) for m, c in COMMAND_OF.items()]
LEVEL_CHOICES = [app_commands.Choice(name=level, value=level) for level in SAFETY_LEVELS]
CHANNEL_ACTIONS = [app_commands.Choice(name=a, value=a) for a in ("allow", "remove", "anywhere")]
SETTINGS_FILE = UploadRule(
    option="file",
    expected="a TOML file (.toml)",
    extensions=(".toml", ".txt"),
    content_types=(),
    max_bytes=1 * MIB,
    signatures=(),
)
TERMS_FILE = UploadRule(
    option="file",
    expected="a text file (.txt)",
    extensions=(".txt",),
    content_types=(),
    max_bytes=MIB,
    signatures=(),
)
Change = Callable[[GuildSettings], GuildSettings]
OPTIONS_OF: dict[Modality, type[MusicOptions | ImageOptions | TextOptions]] = {
    "music": MusicOptions,
    "image": ImageOptions,
    "text": TextOptions,
}


class ConfigGroup(
    app_commands.Group,
    name=_("config"),
    description=_("Configure Atelier for this server (moderators)."),
    default_permissions=discord.Permissions(manage_guild=True),
    guild_only=True,
):
    """Every subcommand needs Manage Server, on Discord's side and on ours."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        try:
            ensure_permissions(interaction, manage_guild=True)
        except MissingPermissions:
            await self.services.audit.record(
                interaction.guild_id or 0,
                interaction.user.id,
                "permission.refused",
                key=interaction.command.qualified_name if interaction.command else None,
            )
            raise
        return True

    # --- reading ---------------------------------------------------------------------------------

    @app_commands.command(name=_("show"), description=_("Show this server's settings."))
    async def show(self, interaction: Interaction) -> None:
        guild_id = _guild(interaction)
        settings = await self.services.guilds.get(guild_id)
        embed = settings_embed(
            settings, guild_id, self.services.settings.moderation, str(interaction.locale.value)
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name=_("export"), description=_("Download this server's settings as a TOML file."))
    async def export(self, interaction: Interaction) -> None:
        settings = await self.services.guilds.get(_guild(interaction))
        data = export_settings(settings).encode()
        file = discord.File(io.BytesIO(data), filename="atelier-settings.toml")
        await interaction.response.send_message(
            t("config.exported", interaction.locale), file=file, ephemeral=True
        )

    # --- generation -------------------------------------------------------------------------------

    @app_commands.command(name=_("modality"), description=_("Switch a kind of generation on or off."))
    @app_commands.choices(modality=MODALITY_CHOICES)
    async def modality(self, interaction: Interaction, modality: str, enabled: bool) -> None:
        name: Modality = modality  # type: ignore[assignment]
        await self._change(
            interaction,
            f"modalities.{name}.enabled",
            f"/{COMMAND_OF[name]} {'on' if enabled else 'off'}",
            lambda s: _with_rules(s, name, enabled=enabled),
        )

    @app_commands.command(name=_("channel"), description=_("Choose the channels where a command may run."))
    @app_commands.choices(command=COMMAND_CHOICES, action=CHANNEL_ACTIONS)
    async def channel(
        self,
        interaction: Interaction,
        command: str,
        action: str,
        channel: discord.TextChannel | None = None,
    ) -> None:
        name: Modality = command  # type: ignore[assignment]
        if action != "anywhere" and channel is None:
            await _reply(interaction, "config.not_a_text_channel")
            return

        def change(s: GuildSettings) -> GuildSettings:
            channels = list(s.rules(name).channels)
            if action == "anywhere":
                channels = []
            elif action == "allow" and channel is not None and channel.id not in channels:
                channels.append(channel.id)
            elif action == "remove" and channel is not None and channel.id in channels:
                channels.remove(channel.id)
            return _with_rules(s, name, channels=tuple(channels))

        where = "anywhere" if action == "anywhere" else f"{action} #{channel.name if channel else '?'}"
        await self._change(
            interaction, f"modalities.{name}.channels", f"/{COMMAND_OF[name]}: {where}", change
        )

    @app_commands.command(name=_("presets"), description=_("Choose the presets members may use."))
    @app_commands.choices(modality=MODALITY_CHOICES)
    @app_commands.describe(allowed=_("Preset names separated by commas, or `all`"))
    async def presets(self, interaction: Interaction, modality: str, allowed: str) -> None:
        name: Modality = modality  # type: ignore[assignment]
        known = set(getattr(self.services.settings, f"{name}_presets"))
        chosen = (
            ()
            if allowed.strip().lower() == "all"
            else tuple(p.strip() for p in allowed.split(",") if p.strip())
        )
        unknown = [p for p in chosen if p not in known]
        if unknown:
            await _reply(
                interaction, "policy.preset", preset=", ".join(unknown), allowed=", ".join(sorted(known))
            )
            return
        await self._change(
            interaction,
            f"modalities.{name}.presets",
            f"{name} presets: {', '.join(chosen) or 'all'}",
            lambda s: _with_rules(s, name, presets=chosen),
        )

    @app_commands.command(name=_("default"), description=_("Set a default option for a command."))
    @app_commands.choices(command=COMMAND_CHOICES)
    @app_commands.describe(
        option=_("A contract option, e.g. negative_prompt"), value=_("Leave empty to remove")
    )
    async def default(self, interaction: Interaction, command: str, option: str, value: str = "") -> None:
        name: Modality = command  # type: ignore[assignment]
        defaults = dict((await self.services.guilds.get(_guild(interaction))).rules(name).defaults)
        if value:
            problem = _default_problem(name, option, value)
            if problem is not None:
                await interaction.response.send_message(problem(interaction.locale), ephemeral=True)
                return
            defaults[option] = _typed(name, option, value)
        else:
            defaults.pop(option, None)
        await self._change(
            interaction,
            f"modalities.{name}.defaults.{option}",
            f"/{COMMAND_OF[name]} {option} = {value or '(none)'}",
            lambda s: _with_rules(s, name, defaults=dict(defaults)),
        )

    # --- limits -----------------------------------------------------------------------------------

    @app_commands.command(
        name=_("limits"), description=_("Set a role's daily jobs, cooldown and jobs at once.")
    )
    @app_commands.describe(
        role=_("The role (leave out for everyone)"),
        daily=_("Jobs per member per UTC day"),
        cooldown=_("Seconds between a member's jobs"),
        concurrent=_("A member's jobs waiting or running at once"),
    )
    async def limits(
        self,
        interaction: Interaction,
        role: discord.Role | None = None,
        daily: app_commands.Range[int, 0, 100_000] | None = None,
        cooldown: app_commands.Range[int, 0, 86_400] | None = None,
        concurrent: app_commands.Range[int, 1, 1000] | None = None,
    ) -> None:
        guild_id = _guild(interaction)
        role_id = role.id if role is not None else guild_id

        def change(s: GuildSettings) -> GuildSettings:
            rows = [row for row in s.limits if row.role_id != role_id]
            if daily is not None or cooldown is not None or concurrent is not None:
                rows.append(
                    RoleLimits(
                        role_id=role_id, daily_jobs=daily, cooldown_s=cooldown, concurrent_jobs=concurrent
                    )
                )
            return s.model_copy(update={"limits": tuple(rows)})

        who = f"@{role.name}" if role is not None else "@everyone"
        what = f"{who}: daily {daily}, cooldown {cooldown} s, at once {concurrent}"
        await self._change(interaction, f"limits.{role_id}", what, change)

    @app_commands.command(
        name=_("queue-cap"), description=_("How many jobs this server may have waiting at once.")
    )
    async def queue_cap(self, interaction: Interaction, jobs: app_commands.Range[int, 1, 100_000]) -> None:
        await self._change(
            interaction, "queue_cap", f"queue cap {jobs}", lambda s: s.model_copy(update={"queue_cap": jobs})
        )

    # --- members and safety -----------------------------------------------------------------------

    @app_commands.command(name=_("bar"), description=_("Bar a member from using Atelier here."))
    async def bar(self, interaction: Interaction, member: discord.Member) -> None:
        def change(s: GuildSettings) -> GuildSettings:
            return s if member.id in s.barred else s.model_copy(update={"barred": (*s.barred, member.id)})

        await self._change(interaction, "barred", f"barred {member.display_name}", change)

    @app_commands.command(name=_("unbar"), description=_("Let a barred member use Atelier again."))
    async def unbar(self, interaction: Interaction, member: discord.Member) -> None:
        def change(s: GuildSettings) -> GuildSettings:
            return s.model_copy(update={"barred": tuple(m for m in s.barred if m != member.id)})

        await self._change(interaction, "barred", f"unbarred {member.display_name}", change)

    @app_commands.command(name=_("safety"), description=_("Set how strict prompt safety is."))
    @app_commands.choices(level=LEVEL_CHOICES)
    async def safety(self, interaction: Interaction, level: str) -> None:
        await self._change(
            interaction, "safety", f"safety {level}", lambda s: s.model_copy(update={"safety": level})
        )

    @app_commands.command(
        name=_("automod"), description=_("Apply this server's AutoMod keyword rules to prompts.")
    )
    async def automod(self, interaction: Interaction, enabled: bool) -> None:
        await self._change(
            interaction,
            "use_automod",
            f"AutoMod rules {'on' if enabled else 'off'}",
            lambda s: s.model_copy(update={"use_automod": enabled}),
        )

    @app_commands.command(
        name=_("audit-channel"), description=_("Choose the channel where changes and refusals are logged.")
    )
    async def audit_channel(
        self, interaction: Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        channel_id = channel.id if channel is not None else None
        await self._change(
            interaction,
            "audit_channel_id",
            f"audit log in #{channel.name}" if channel else "audit log off",
            lambda s: s.model_copy(update={"audit_channel_id": channel_id}),
        )

    @app_commands.command(name=_("approval"), description=_("Hold results for a moderator's approval."))
    async def approval(
        self, interaction: Interaction, enabled: bool, channel: discord.TextChannel | None = None
    ) -> None:
        def change(s: GuildSettings) -> GuildSettings:
            channel_id = channel.id if channel is not None else s.approval.channel_id
            return s.model_copy(update={"approval": Approval(enabled=enabled, channel_id=channel_id)})

        current = (await self.services.guilds.get(_guild(interaction))).approval.channel_id
        if enabled and channel is None and current is None:
            await _reply(interaction, "config.not_a_text_channel")
            return
        where = f" in #{channel.name}" if channel else ""
        await self._change(interaction, "approval", f"approval {'on' if enabled else 'off'}{where}", change)

    # --- blocked terms ----------------------------------------------------------------------------

    blocked = app_commands.Group(name=_("blocked"), description=_("Terms refused in prompts on this server."))

    @blocked.command(name=_("add"), description=_("Block a term (or several, separated by commas)."))
    async def blocked_add(self, interaction: Interaction, term: app_commands.Range[str, 1, 1000]) -> None:
        await self._add_terms(interaction, [part.strip() for part in term.split(",") if part.strip()])

    @blocked.command(name=_("remove"), description=_("Unblock a term."))
    async def blocked_remove(self, interaction: Interaction, term: str) -> None:
        term = term.strip()
        if term not in (await self.services.guilds.get(_guild(interaction))).blocked_terms:
            await _reply(interaction, "config.term_missing", term=term)
            return

        def change(s: GuildSettings) -> GuildSettings:
            return s.model_copy(update={"blocked_terms": tuple(x for x in s.blocked_terms if x != term)})

        await self._change(interaction, "blocked_terms", f"unblocked {term}", change, reply=False)
        await _reply(interaction, "config.term_removed", term=term)

    @blocked.command(name=_("list"), description=_("List the blocked terms."))
    async def blocked_list(self, interaction: Interaction) -> None:
        terms = (await self.services.guilds.get(_guild(interaction))).blocked_terms
        if not terms:
            await _reply(interaction, "config.terms_none")
            return
        shown = ", ".join(f"`{term}`" for term in terms)
        embed = discord.Embed(title=t("config.terms_title", interaction.locale, total=len(terms)))
        embed.description = shown if len(shown) <= 4000 else shown[:3990] + "…"
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @blocked.command(name=_("import"), description=_("Block every term in a text file (one a line)."))
    async def blocked_import(self, interaction: Interaction, file: discord.Attachment) -> None:
        check_metadata(file, TERMS_FILE)
        data = await fetch_checked(file, TERMS_FILE)
        try:
            lines = data.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            await _reply(interaction, "config.import_refused", problems="- (file): is not UTF-8 text")
            return
        await self._add_terms(
            interaction, [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        )

    # --- the whole document -----------------------------------------------------------------------

    @app_commands.command(name=_("import"), description=_("Apply settings from a TOML file."))
    async def import_(self, interaction: Interaction, file: discord.Attachment) -> None:
        check_metadata(file, SETTINGS_FILE)
        data = await fetch_checked(file, SETTINGS_FILE)
        operator = self.services.settings.moderation
        try:
            imported = import_settings(data, operator)
        except ImportRefused as refused:
            await _reply(interaction, "config.import_refused", problems=problem_lines(refused.problems))
            return
        guild_id = _guild(interaction)
        try:
            before, after = await self.services.guilds.update(
                guild_id, lambda _: imported, by=interaction.user.id
            )
        except StaleSettingsError:
            await _reply(interaction, "config.stale")
            return
        changes = changed_keys(before, after)
        for key, (old, new) in changes.items():
            await self.services.audit.record(
                guild_id, interaction.user.id, "config.import", key=key, old=old, new=new
            )
        if changes:
            await _reply(interaction, "config.imported", keys=", ".join(f"`{k}`" for k in changes))
        else:
            await _reply(interaction, "config.imported_nothing")

    # --- helpers ----------------------------------------------------------------------------------

    async def _add_terms(self, interaction: Interaction, terms: list[str]) -> None:
        operator = self.services.settings.moderation
        current = (await self.services.guilds.get(_guild(interaction))).blocked_terms
        merged = tuple(dict.fromkeys([*current, *terms]))
        problems = term_problems(merged, operator)
        if any(p.key == "blocked_terms" for p in problems):
            await _reply(
                interaction, "config.terms_too_many", count=len(merged), limit=operator.max_blocked_terms
            )
            return
        if problems:
            await _reply(interaction, "config.term_too_long", limit=operator.max_term_length)
            return
        await self._change(
            interaction,
            "blocked_terms",
            f"blocked {len(terms)} term(s)",
            lambda s: s.model_copy(
                update={"blocked_terms": tuple(dict.fromkeys([*s.blocked_terms, *terms]))}
            ),
            reply=False,
        )
        await _reply(interaction, "config.term_added", count=len(terms), total=len(merged))

    async def _change(
        self, interaction: Interaction, key: str, what: str, change: Change, *, reply: bool = True
    ) -> None:
        """Apply a change, audit it (who, what, old, new), and tell the moderator what now applies."""
        guild_id = _guild(interaction)
        try:
            before, after = await self.services.guilds.update(guild_id, change, by=interaction.user.id)
        except StaleSettingsError:
            await _reply(interaction, "config.stale")
            return
        changes = changed_keys(before, after)
        if changes:
            old, new = value_at(before, key), value_at(after, key)
            await self.services.audit.record(
                guild_id, interaction.user.id, "config.set", key=key, old=old, new=new
            )
        if not reply:
            return
        if not changes:
            await _reply(interaction, "config.unchanged", what=what)
            return
        caps = [
            c for c in capped(after, self.services.settings.moderation) if c.key.startswith(key.split(".")[0])
        ]
        if caps:
            await _reply(
                interaction, "config.saved_capped", what=what, allowed=", ".join(str(c.allowed) for c in caps)
            )
        else:
            await _reply(interaction, "config.saved", what=what)


def problem_lines(problems: list[Problem], budget: int = 1800) -> str:
    """An import's problems as list lines that fit in one message (Discord's limit is 2,000 characters):
    at most 15, keys and reasons shortened, then how many more there are."""
    lines: list[str] = []
    for problem in problems[:15]:
        key = _shortened(problem.key.replace("`", "'"), 60)
        line = f"- `{key}`: {_shortened(problem.reason, 200)}"
        if sum(len(x) + 1 for x in lines) + len(line) > budget:
            break
        lines.append(line)
    if len(problems) > len(lines):
        lines.append(f"- … and {len(problems) - len(lines)} more")
    return "\n".join(lines)


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def value_at(settings: GuildSettings, key: str) -> Any:
    """The value a dotted key names (`modalities.image.enabled`, `limits.<role id>`, `safety`)."""
    value: Any = settings.model_dump(mode="json")
    for part in key.split("."):
        if isinstance(value, list):  # the limits rows, by role id
            value = next((row for row in value if str(row.get("role_id")) == part), None)
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _guild(interaction: Interaction) -> int:
    assert interaction.guild_id is not None  # the group is guild-only
    return interaction.guild_id


async def _reply(interaction: Interaction, key: str, **values: Any) -> None:
    text = t(key, interaction.locale, **values)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


def _with_rules(settings: GuildSettings, modality: Modality, **changes: Any) -> GuildSettings:
    rules: ModalityRules = settings.rules(modality).model_copy(update=changes)
    return settings.model_copy(update={"modalities": {**settings.modalities, modality: rules}})


def _typed(modality: Modality, option: str, value: str) -> Any:
    """The value as the contract types the option (an int, a float, a bool or text)."""
    job = parse_job({"modality": modality, "options": {**_required(modality), option: value}})
    return getattr(job.options, option)


def _required(modality: Modality) -> dict[str, str]:
    return {"prompt": "x"} if modality in ("image", "text") else {}


def _default_problem(modality: Modality, option: str, value: str) -> Callable[[Any], str] | None:
    """Why `option = value` cannot be a default for the modality's command (None: it can)."""
    model = OPTIONS_OF[modality]
    settable = sorted(set(model.model_fields) - {"prompt", "seed", "init_artifact", "prime_artifact"})
    if option not in settable:
        known = ", ".join(settable)
        return lambda locale: t(
            "config.bad_option", locale, option=option, command=COMMAND_OF[modality], known=known
        )
    try:
        parse_job({"modality": modality, "options": {**_required(modality), option: value}})
    except ContractError as error:
        reason = str(error).split(": ", 2)[-1]
        return lambda locale: t("config.bad_default", locale, command=COMMAND_OF[modality], reason=reason)
    return None
