"""Putting results (and progress) into Discord, exactly once per job.

Delivery order: edit the interaction's reply through its webhook token; when the token has expired
(older than 15 minutes, or Discord answers 401 / 50027) post in the channel mentioning the member.
The job is claimed (`begin_delivery`, an atomic compare-and-set) before anything is sent, so two bot
processes can never both deliver it; a delivery that fails is abandoned and retried later
(periodically, and at the next start). The claim is a lease: if the bot dies while sending, the job
is sent again once the lease has expired. Editing the reply again is harmless, and a channel post
carries a nonce made from the job id with `enforce_nonce`, so Discord answers a repeated post with
the first one instead of posting twice.
A per-job lock orders the queued reply, progress edits and the final message within this process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import discord
from sqlalchemy.exc import SQLAlchemyError

from bot.core.components import ResultButtons
from bot.db.jobs import DELIVERY_LEASE_S, CancelOutcome, JobRecord
from bot.delivery.gates import DeliveryGates, Verdict
from bot.delivery.render import Rendered, finished_message, held_message, progress_message, withheld_message
from bot.delivery.target import DiscordTarget
from bot.delivery.undeliverable import UNKNOWN_MESSAGE, Undeliverable, final
from bot.i18n import t
from bot.metrics import record as metrics
from bot.runtime import Runtime
from wire.artifacts import ArtifactError, ArtifactUnavailable
from wire.contract import ProgressEvent, ResultEvent, StartedEvent
from wire.events import AnyEvent, event_job_id

log = logging.getLogger(__name__)

EXPIRED_CODES = {50027, 10015}  # invalid webhook token, unknown webhook
MAX_TRIES_PER_PROCESS = 5
NONCE_LENGTH = 25  # Discord's limit for a message nonce
TOO_LARGE = 413
RECORD_TRIES = 8  # about 20 s of a database restarting before a sent result's record is given up
RECORD_BACKOFF_S = 0.5  # the first wait between those tries, doubled each time (at most 5 s)
FINISHED_KEPT = 4096  # recently finished jobs whose late progress events are ignored without a read


EventListener = Callable[[AnyEvent], None]
"""Told of every event once it is recorded; must be quick (spawn any real work)."""
DeliveredListener = Callable[[JobRecord, DiscordTarget], Awaitable[None]]
"""Told, in the background, of each job whose result reached Discord as it was made."""


class FilesTooLarge(Exception):
    """Discord refused a message's files as too large (413): retrying the same message cannot help."""


async def _quietly(awaitable: Awaitable[None], job_id: str) -> None:
    try:
        await awaitable
    except Exception:
        log.exception("a delivered-result listener failed for job %s", job_id)


def delivery_nonce(job_id: str) -> str:
    """The nonce of a job's channel post: the same on every try, unique per job in practice."""
    return job_id[:NONCE_LENGTH]


class Deliverer:
    """Edits job messages as events arrive and delivers each finished job once."""

    def __init__(
        self,
        client: discord.Client,
        runtime: Runtime,
        buttons: ResultButtons,
        *,
        progress_interval_s: float = 1.0,
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.buttons = buttons
        self.gates = DeliveryGates()
        """What features check before a result is delivered (approval, output safety)."""
        self.progress_interval_s = progress_interval_s
        self.event_listeners: list[EventListener] = []
        """Features that follow the event stream (their own event types too: the job service
        records only job events and passes the rest through here)."""
        self.delivered_listeners: list[DeliveredListener] = []
        """Features that follow results once delivered (not withheld, not held)."""
        self.lease_s = DELIVERY_LEASE_S  # how long another process's claim on a delivery is honoured
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._last_edit: dict[str, float] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._tries: defaultdict[str, int] = defaultdict(int)
        self._tasks: set[asyncio.Task[Any]] = set()

    def lock(self, job_id: str) -> asyncio.Lock:
        """Held while a message of this job is being written."""
        return self._locks[job_id]

    # --- the event stream ------------------------------------------------------------------

    async def handle_event(self, event: AnyEvent) -> None:
        """Record the event; then edit progress (throttled) or deliver a newly recorded result."""
        self._after(event, await self.runtime.service.apply_event(event))

    async def handle_events(self, events: list[AnyEvent]) -> None:
        """Record a batch of events in one transaction, then act on each as `handle_event` does."""
        for event, record in zip(events, await self.runtime.service.apply_events(events), strict=True):
            self._after(event, record)

    def _after(self, event: AnyEvent, record: JobRecord | None) -> None:
        for listener in self.event_listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener %r failed", listener)
        if isinstance(event, ProgressEvent):
            self.progress(event.progress.job_id, event.progress.preview_text)
        elif isinstance(event, StartedEvent):
            self.progress(event.job_id, None)
        if record is not None and isinstance(event, ResultEvent):
            self.spawn(self.deliver(record))
        elif isinstance(event, ResultEvent):
            log.debug("result for %s was already recorded", event_job_id(event))

    def progress(self, job_id: str, preview: str | None) -> None:
        """Schedule a progress edit unless this job was edited less than the interval ago."""
        now = time.monotonic()
        if job_id in self._finished or now - self._last_edit.get(job_id, -1e9) < self.progress_interval_s:
            return
        self._last_edit[job_id] = now
        self.spawn(self._edit_progress(job_id, preview))

    async def _edit_progress(self, job_id: str, preview: str | None) -> None:
        async with self.lock(job_id):
            if job_id in self._finished:
                return
            record = await self.runtime.jobs.get(job_id)
            target = DiscordTarget.from_dict(record.delivery_target) if record else None
            if record is None or target is None or not record.is_active or not target.token_alive():
                return
            rendered = progress_message(record, target.locale, self.buttons, preview)
            try:
                await self._edit_original(target, rendered)
            except discord.HTTPException as error:
                log.info("progress edit for job %s failed: %s", job_id, error)

    # --- delivery ----------------------------------------------------------------------------

    async def deliver(self, record: JobRecord) -> bool:
        """Deliver a finished job once; True if it was delivered now."""
        target = DiscordTarget.from_dict(record.delivery_target)
        if target is None:  # not ours to send (the CLI's): nothing to remember about it either
            self._forget(record.id)
            return False
        self._mark_finished(record.id)
        async with self.lock(record.id):
            fresh = await self.runtime.jobs.get(record.id)
            if fresh is None or fresh.delivered_at is not None or fresh.result is None:
                return False
            target = DiscordTarget.from_dict(fresh.delivery_target) or target
            outcome = fresh.outcome
            if outcome is None or not await self.runtime.jobs.begin_delivery(record.id, self.lease_s):
                return False  # another bot process holds it
            self._tries[record.id] += 1
            try:
                decision = await self.gates.decide(fresh, target)
                if decision.verdict is Verdict.HOLD:  # the gate parked it; the member hears it waits
                    await self._tell_held(fresh, target)
                    metrics.delivery(fresh, "held")
                    return False
                if decision.verdict is Verdict.WITHHOLD:
                    rendered = withheld_message(
                        fresh, decision.reason or "withheld.unsafe", target.locale, self.buttons
                    )
                else:
                    rendered = finished_message(
                        fresh,
                        await self._contents(fresh),
                        target.attachment_size_limit,
                        target.locale,
                        self.buttons,
                    )
                try:
                    delivered = await self._send(target, rendered, record.id)
                except (
                    FilesTooLarge
                ):  # over the channel's real limit: send it again, files named not attached
                    log.warning(
                        "job %s: Discord refused its files as too large; sending without them", record.id
                    )
                    rendered = finished_message(fresh, {}, 0, target.locale, self.buttons, named=True)
                    delivered = await self._send(target, rendered, record.id)
            except Undeliverable as gone:  # the channel is gone or closed: no retry can help
                log.warning(
                    "job %s cannot be delivered to channel %s (%s %s %s); delivery ends",
                    record.id,
                    target.channel_id,
                    gone.status,
                    gone.code,
                    gone.message,
                )
                await self.runtime.jobs.end_delivery(record.id, gone.record())
                metrics.delivery(fresh, "undeliverable")
                self._forget(record.id)
                return False
            except ArtifactUnavailable as error:
                log.error("job %s: its files cannot be read (%s); it stays undelivered", record.id, error)
                delivered = False
            except Exception:
                log.exception("delivering job %s failed; it stays undelivered", record.id)
                delivered = False
            if not delivered:
                await self.runtime.jobs.abandon_delivery(record.id)
                metrics.delivery(fresh, "retry")
                return False
            await self._record_delivered(record.id)
            metrics.delivery(fresh, "withheld" if decision.verdict is Verdict.WITHHOLD else "delivered")
            if decision.verdict is Verdict.PASS:
                for listener in self.delivered_listeners:
                    self.spawn(_quietly(listener(fresh, target), record.id))
        if delivered:
            self._forget(record.id)
        return delivered

    async def _record_delivered(self, job_id: str) -> None:
        """Mark the job delivered, waiting out a database that is away for a moment: the message is
        already in Discord, and a claim left behind would send it again once its lease lapses."""
        for attempt in range(RECORD_TRIES):
            try:
                await self.runtime.jobs.finish_delivery(job_id)
                return
            except (SQLAlchemyError, OSError) as error:
                if attempt == RECORD_TRIES - 1:
                    raise
                log.warning("recording job %s as delivered failed (%s); trying again", job_id, error)
                await asyncio.sleep(min(RECORD_BACKOFF_S * 2**attempt, 5.0))

    async def render_result(
        self, record: JobRecord, size_limit: int, locale: str, buttons: ResultButtons | None = None
    ) -> Rendered:
        """A finished job's message with its files (for a gate that shows it somewhere else first)."""
        contents = await self._contents(record)
        return finished_message(record, contents, size_limit, locale, buttons or self.buttons)

    async def _tell_held(self, record: JobRecord, target: DiscordTarget) -> None:
        """Edit the member's reply: the result waits for a moderator (best effort)."""
        if not target.token_alive():
            return
        try:
            await self._edit_original(target, held_message(record, target.locale))
        except discord.HTTPException as error:
            log.info("could not tell the member job %s is held: %s", record.id, error)

    async def cancel(self, job_id: str) -> CancelOutcome:
        """Cancel a job; one that never ran is delivered as cancelled at once (no worker will report it)."""
        outcome = await self.runtime.service.cancel(job_id)
        if outcome is CancelOutcome.CANCELLED:
            cancelled = await self.runtime.jobs.get(job_id)
            if cancelled is not None:
                metrics.cancelled_before_start(cancelled)
                self.spawn(self.deliver(cancelled))
        return outcome

    async def deliver_backlog(self) -> int:
        """Deliver finished jobs left undelivered (from before a restart, or failed tries)."""
        delivered = 0
        for record in await self.runtime.jobs.undelivered_finished(
            target_kind="discord", lease_s=self.lease_s
        ):
            if self._tries[record.id] >= MAX_TRIES_PER_PROCESS:
                continue
            if await self.deliver(record):
                delivered += 1
        return delivered

    async def redeliver_forever(self, interval_s: float) -> None:
        """Retry undelivered results every `interval_s` seconds."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.deliver_backlog()
            except Exception:
                log.exception("retrying undelivered results failed")

    async def _contents(self, record: JobRecord) -> dict[str, bytes]:
        """The bytes of each artifact still in the store."""
        contents: dict[str, bytes] = {}
        for artifact in record.artifacts:
            try:
                contents[artifact.key] = await asyncio.to_thread(self.runtime.store.get, artifact.key)
            except ArtifactUnavailable:
                raise  # the store is away, not the file: deliver later, with it
            except ArtifactError as error:
                log.warning("artifact %s of job %s is gone: %s", artifact.key, record.id, error)
        return contents

    async def _send(self, target: DiscordTarget, rendered: Rendered, job_id: str) -> bool:
        if target.token_alive():
            try:
                await self._edit_original(target, rendered)
                return True
            except discord.HTTPException as error:
                if error.status == TOO_LARGE:
                    raise FilesTooLarge from error
                if error.status != 401 and error.code not in EXPIRED_CODES | {UNKNOWN_MESSAGE}:
                    log.warning("editing the reply failed (%s %s); will retry", error.status, error.code)
                    return False
                log.info("the reply cannot be edited (%s); posting in the channel instead", error.code)
        try:
            await self._post_in_channel(target, rendered, job_id)
            return True
        except discord.HTTPException as error:
            if error.status == TOO_LARGE:
                raise FilesTooLarge from error
            gone = final(error)
            if gone is not None:
                raise gone from error
            log.warning("posting in channel %s failed (%s); will retry", target.channel_id, error.status)
            return False

    def _webhook(self, target: DiscordTarget) -> discord.Webhook:
        return discord.Webhook.partial(target.application_id, target.interaction_token, client=self.client)

    async def _edit_original(self, target: DiscordTarget, rendered: Rendered) -> None:
        message_id: Any = target.message_id or "@original"
        await self._webhook(target).edit_message(
            message_id,
            content=None,
            embed=rendered.embed,
            attachments=rendered.discord_files(),
            view=rendered.view,
        )

    async def _post_in_channel(self, target: DiscordTarget, rendered: Rendered, job_id: str) -> None:
        channel = self.client.get_partial_messageable(target.channel_id, guild_id=target.guild_id)
        reference = (
            discord.MessageReference(
                message_id=target.message_id, channel_id=target.channel_id, fail_if_not_exists=False
            )
            if target.message_id
            else None
        )
        kwargs: dict[str, Any] = {"reference": reference} if reference else {}
        await channel.send(
            # The same nonce for every try of a job: if a bot died after posting but before recording
            # the delivery, Discord returns that post instead of making a second (enforce_nonce).
            nonce=delivery_nonce(job_id),
            content=t("expired_mention", target.locale, mention=f"<@{target.user_id}>"),
            embed=rendered.embed,
            files=rendered.discord_files(),
            view=rendered.view,
            allowed_mentions=discord.AllowedMentions(
                everyone=False, roles=False, users=[discord.Object(target.user_id)], replied_user=False
            ),
            **kwargs,
        )

    # --- housekeeping ------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` in the background, keeping a reference until it ends."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for background edits and deliveries (at shutdown), cancelling what is left."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()

    def _mark_finished(self, job_id: str) -> None:
        """Remember that a job finished, so its late progress events cost nothing (the oldest are
        forgotten: a progress edit also checks the job is still active before it writes)."""
        self._finished[job_id] = None
        self._finished.move_to_end(job_id)
        while len(self._finished) > FINISHED_KEPT:
            self._finished.popitem(last=False)

    def _forget(self, job_id: str) -> None:
        self._last_edit.pop(job_id, None)
        self._tries.pop(job_id, None)
        lock = self._locks.get(job_id)
        if lock is not None and not lock.locked():
            del self._locks[job_id]
