"""The step between submitting a job and putting it on the broker.

1. **Checks** decide whether a job may be stored at all (`Admission.add`; a server's own rules,
   barred members, channels, presets and prompt safety, run before the reply is deferred, in
   `bot/guilds/policy.py`). A check that says no raises `Refused` with the member's message;
   nothing is stored or queued.
2. **Limits**: a member's daily jobs, cooldown and jobs at once, and the server's queue cap, are
   checked in the transaction that stores the job, so simultaneous requests cannot slip past them.
3. **Capacity and fair order**: an admitted job goes to the broker only while its modality has
   fewer than `admission.queue_capacity` jobs queued or running; otherwise it waits in the database
   (status `waiting`) and is released as jobs of its modality finish, in fair order: servers take
   turns in proportion to their weights, and members take turns within a server (`fair_key` in
   `bot/db/jobs/statements.py`). The broker's queue stays short and the order is decided here.

Storing, the capacity check and releasing happen in one database transaction, so concurrent bot
processes do not release more than the capacity on SQLite; on PostgreSQL two transactions may each
see the last free place, so a queue can briefly hold a job or two more than its capacity.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from config.settings import AdmissionSettings
from wire.contract import AnyJob

log = logging.getLogger(__name__)


class Refused(Exception):
    """A job that admission turned down; `key` and `values` name the member's message (bot/i18n)."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(f"{key}: {values}")
        self.key = key
        self.values = values

    def localized_values(self, locale: str) -> dict[str, Any]:
        """The values for the member's message in their language (a subclass may translate some)."""
        return self.values


class AdmissionCheck(Protocol):
    """One rule a job must pass before it is stored (raise `Refused` to turn it down)."""

    name: str

    async def check(self, job: AnyJob) -> None: ...


class Admission:
    """The checks, in the order they were added, and each modality's capacity."""

    def __init__(
        self,
        settings: AdmissionSettings,
        checks: Sequence[AdmissionCheck] = (),
        weights: Mapping[int, float] | None = None,
    ) -> None:
        self.settings = settings
        self._checks: list[AdmissionCheck] = list(checks)
        self.weights = dict(weights or {})

    def add(self, check: AdmissionCheck) -> None:
        """Add a check (or replace the one with the same name)."""
        self._checks = [c for c in self._checks if c.name != check.name] + [check]

    @property
    def checks(self) -> list[str]:
        return [check.name for check in self._checks]

    async def admit(self, job: AnyJob) -> None:
        """Run every check; the first that refuses raises `Refused`."""
        for check in self._checks:
            try:
                await check.check(job)
            except Refused as refusal:
                log.info("job %s refused by %s: %s", job.id, check.name, refusal.key)
                raise

    def weight(self, guild_id: int | None) -> float:
        """A server's share of its queues when jobs wait (the operator's `moderation.server_weights`)."""
        return self.weights.get(guild_id, 1.0) if guild_id is not None else 1.0

    def capacity(self, modality: str) -> int:
        """How many jobs of the modality may be queued or running at once."""
        return self.settings.capacity(modality)
