"""A server's rules for a job, applied before anything is stored or deferred: barred members, modalities
switched off, the channels a command may run in, allowed presets, default options and prompt safety.
What it returns goes on to admission with the member's limits, which the database enforces.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.db.jobs import MemberQuota
from bot.guilds.audit import AuditService
from bot.guilds.limits import effective_safety, member_limits
from bot.guilds.service import GuildSettingsService
from bot.guilds.settings import COMMAND_OF, GuildSettings
from bot.metrics import record as metrics
from bot.pipeline.admission import Refused
from bot.safety.automod import AutoModRule
from bot.safety.checker import PromptChecker, Verdict
from config.settings import ModerationSettings
from wire.contract import AnyJob, ContractError, ImageJob, TextJob, parse_job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemberRequest:
    """Who asks, where, and which options they gave themselves (the rest may take server defaults)."""

    guild_id: int
    user_id: int
    channel_id: int
    roles: tuple[int, ...] = ()
    age_restricted: bool = False
    provided: frozenset[str] = field(default_factory=frozenset)
    """Contract fields the member set explicitly (`options.<field>` names)."""


class AutoModLists(Protocol):
    """A server's AutoMod rules, as the bot last read them (bot/guilds/automod.py)."""

    def for_guild(self, guild_id: int) -> tuple[AutoModRule, ...]: ...


class PromptRefused(Refused):
    """A prompt the safety rules stopped; `verdict` says which rule (never a score)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__("policy.blocked", rule=verdict.rule or "safety")
        self.verdict = verdict

    def localized_values(self, locale: str) -> dict[str, Any]:
        return {"rule": self.verdict.reason(locale)}


class GuildPolicy:
    """Each server's rules, read from its cached settings."""

    def __init__(
        self,
        guilds: GuildSettingsService[GuildSettings],
        operator: ModerationSettings,
        audit: AuditService | None = None,
        prompts: PromptChecker | None = None,
        automod: AutoModLists | None = None,
        presets: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.guilds = guilds
        self.operator = operator
        self.audit = audit
        self.prompts = prompts
        self.automod = automod
        self.presets = {modality: tuple(names) for modality, names in (presets or {}).items()}
        """The presets the operator configured, by modality (an unknown one is refused at once)."""

    async def ensure_allowed(self, guild_id: int, user_id: int) -> GuildSettings:
        """The server's settings, unless the member is barred there (Refused)."""
        settings = await self.guilds.get(guild_id)
        if user_id in settings.barred:
            raise Refused("policy.barred")
        return settings

    async def prepare(self, job: AnyJob, request: MemberRequest) -> tuple[AnyJob, MemberQuota]:
        """The job as the server's rules make it (defaults applied), and the member's limits;
        Refused with the rule's message when a rule stops it."""
        settings = await self.ensure_allowed(request.guild_id, request.user_id)
        rules = settings.rules(job.modality)
        command = COMMAND_OF[job.modality]
        if not rules.enabled:
            raise Refused("policy.modality_off", command=command)
        if rules.channels and request.channel_id not in rules.channels:
            raise Refused(
                "policy.channel", command=command, channels=" ".join(f"<#{c}>" for c in rules.channels)
            )
        known = self.presets.get(job.modality)
        if known is not None and job.preset is not None and job.preset not in known:
            raise Refused("policy.unknown_preset", preset=job.preset, allowed=", ".join(sorted(known)))
        if rules.presets and job.preset is not None and job.preset not in rules.presets:
            raise Refused("policy.preset", preset=job.preset, allowed=", ".join(rules.presets))
        if rules.presets and job.preset is None:
            job = job.model_copy(update={"preset": rules.presets[0]})
        job = self._with_defaults(job, rules.defaults, request.provided)
        await self.check_prompt(job, settings, request)
        return job, member_limits(settings, request.guild_id, request.roles, self.operator)

    async def check_prompt(self, job: AnyJob, settings: GuildSettings, request: MemberRequest) -> None:
        """Refuse (and audit) a job whose prompt or negative prompt the safety rules stop."""
        if self.prompts is None or not isinstance(job, ImageJob | TextJob):
            return
        level = effective_safety(settings, request.age_restricted, self.operator)
        lists = self.automod.for_guild(request.guild_id) if self.automod and settings.use_automod else None
        texts = [job.options.prompt]
        if isinstance(job, ImageJob) and job.options.negative_prompt:
            texts.append(job.options.negative_prompt)
        for text in texts:
            verdict = self.prompts.check(
                text,
                level=level,
                server_terms=[*self.operator.blocked_terms, *settings.blocked_terms],
                automod=lists,
            )
            if verdict.blocked:
                metrics.safety_block("prompt", verdict.rule)
                if self.audit is not None:
                    await self.audit.record(
                        request.guild_id, request.user_id, "safety.blocked", key=verdict.rule, detail=text
                    )
                raise PromptRefused(verdict)

    def _with_defaults(self, job: AnyJob, defaults: dict[str, Any], provided: frozenset[str]) -> AnyJob:
        missing = {name: value for name, value in defaults.items() if name not in provided}
        if not missing:
            return job
        payload = job.model_dump(mode="json")
        payload["options"].update(missing)
        try:
            return parse_job(payload)
        except ContractError as error:  # a default that no longer fits (the contract changed): skip it
            log.warning("guild %s: a default option does not fit its job: %s", job.guild_id, error)
            return job
