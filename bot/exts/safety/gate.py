"""The output gate: what a model made is checked before the member sees it.

- Text results go through the prompt check at the channel's level; a blocked one is withheld.
- Images the worker's safety checker flagged (they arrive blurred, listed in the result's metadata)
  are posted only in age-restricted channels.
- Either way, on a server in approval mode the result has already been held for a moderator (the
  approval gate runs first), and what a moderator approved is posted as approved.
Every withheld result is audited.
"""

from __future__ import annotations

from bot.core.services import Services
from bot.db.jobs import JobRecord
from bot.db.status import JobStatus
from bot.delivery.gates import PASS, GateDecision, Verdict
from bot.delivery.target import DiscordTarget
from bot.guilds.limits import effective_safety
from bot.metrics import record as metrics

WITHHELD = GateDecision(Verdict.WITHHOLD, "withheld.unsafe")


class OutputSafetyGate:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, record: JobRecord, target: DiscordTarget) -> GateDecision:
        if record.outcome is not JobStatus.SUCCEEDED or record.result is None or record.guild_id is None:
            return PASS
        if (record.hold or {}).get("decision") == "approved":
            return PASS
        settings = await self.services.guilds.get(record.guild_id)
        reason = self._problem(
            record,
            target,
            effective_safety(settings, target.age_restricted, self.services.settings.moderation),
        )
        if reason is None:
            return PASS
        metrics.safety_block("output", reason)
        await self.services.audit.record(
            record.guild_id, record.user_id, "safety.output", key=reason, detail=record.id
        )
        return WITHHELD

    def _problem(self, record: JobRecord, target: DiscordTarget, level: str) -> str | None:
        result = record.result
        assert result is not None
        if result.text and self.services.policy.prompts is not None:
            verdict = self.services.policy.prompts.check(result.text, level=level)
            if verdict.blocked:
                return f"text:{verdict.rule}"
        flagged = (result.metadata.get("safety") or {}).get("flagged") or []
        if flagged and not target.age_restricted:
            return "image:flagged"
        return None
