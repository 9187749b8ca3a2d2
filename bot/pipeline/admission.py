"""The step between submitting a job and putting it on the broker.

1. **Checks** decide whether a job may be stored at all (quotas, cooldowns, fair-use caps, prompt
   safety, an approval mode: moderation adds them with `Admission.add`). A check that says no raises
   `Refused` with the member's message; nothing is stored or queued.
2. **Capacity**: an admitted job is stored, and goes to the broker only while its modality has fewer
   than `admission.queue_capacity` jobs queued or running; otherwise it waits in the database
   (status `waiting`) and is released, oldest first, as jobs of its modality finish. The broker's
   queue therefore stays short, and the order in which jobs start is decided here (FIFO today; fair
   sharing across servers replaces the release order in `bot/db/jobs/statements.py`).

Storing, the capacity check and releasing happen in one database transaction, so concurrent bot
processes do not release more than the capacity on SQLite; on PostgreSQL two transactions may each
see the last free place, so a queue can briefly hold a job or two more than its capacity.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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


class AdmissionCheck(Protocol):
    """One rule a job must pass before it is stored (raise `Refused` to turn it down)."""

    name: str

    async def check(self, job: AnyJob) -> None: ...


class Admission:
    """The checks, in the order they were added, and each modality's capacity."""

    def __init__(self, settings: AdmissionSettings, checks: Sequence[AdmissionCheck] = ()) -> None:
        self.settings = settings
        self._checks: list[AdmissionCheck] = list(checks)

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

    def capacity(self, modality: str) -> int:
        """How many jobs of the modality may be queued or running at once."""
        return self.settings.capacity(modality)
