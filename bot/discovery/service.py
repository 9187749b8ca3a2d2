"""Discovery in the bot process: each server's catalogue, members and indexes in memory, kept
current as results are delivered, embeddings come back and members give signals.

- Items: a delivered result is stored (`discovery_items`) and its text sent to the embedding queue
  (`wire.routing.EMBED_QUEUE`, JSON); the embedding worker answers on the event stream with an
  `EmbeddedEvent`, and the vector is stored and added to the server's ANN index. An item still
  without a vector after `embed_timeout_s` is asked for again (the queue or the bot may have lost it).
- Signals: stored unless the member opted out; applied to the server's in-memory state at once
  (popularity, the member's history, the collaborative model's fold-in).
- The collaborative model is refitted in a thread every `refit_interval_s` on servers that had
  enough new signals.
- Feeds: `feed` ranks a page (`bot.discovery.ranking`); items shown stay off the member's next pages
  for `shown_ttl_s`.

Servers are loaded on first use and the least recently used are dropped past `max_servers_loaded`.
Nothing here crosses servers: each server has its own state, and every read names its server.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from celery import Celery

from bot.discovery.catalogue import Community
from bot.discovery.collaborative import ALSModel, ALSParams
from bot.discovery.index import AnnIndex
from bot.discovery.ranking import Ranker, RankerConfig, Request, Weights
from bot.discovery.repository import DiscoveryRepository, ItemRecord, NewItem
from bot.discovery.text import item_text
from config.settings import DiscoverySettings
from wire.contract import EmbeddedEvent, EmbedItem, EmbedRequest, utcnow
from wire.routing import EMBED_QUEUE, EMBED_TASK

log = logging.getLogger(__name__)

EMBED_BATCH = 32


def ranker_config(settings: DiscoverySettings) -> RankerConfig:
    return RankerConfig(
        weights=Weights(
            content=settings.content_weight,
            collaborative=settings.collaborative_weight,
            popularity=settings.popularity_weight,
            freshness=settings.freshness_weight,
        ),
        diversity=settings.diversity,
        exploration_share=settings.exploration_share,
        new_creator_days=settings.new_creator_days,
        freshness_half_life_s=settings.freshness_half_life_days * 86400.0,
    )


@dataclass
class ServerState:
    """One server's discovery state."""

    guild_id: int
    community: Community
    index: AnnIndex
    ranker: Ranker
    shown: dict[int, dict[int, float]] = field(default_factory=dict)
    """member → row → until when it stays off their pages."""
    signals_since_fit: int = 0
    last_fit: float = 0.0
    fitting: bool = False
    fits: int = 0


@dataclass(frozen=True)
class Pick:
    """An item on a page, with what a message needs to show it."""

    item: ItemRecord
    row: int


class DiscoveryService:
    """See the module doc."""

    def __init__(
        self,
        repository: DiscoveryRepository,
        settings: DiscoverySettings,
        celery: Celery | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.repository = repository
        self.settings = settings
        self.celery = celery
        self.clock = clock
        self.config = ranker_config(settings)
        self.opted_out: set[int] = set()
        self._states: OrderedDict[int, ServerState] = OrderedDict()
        self._loading: dict[int, asyncio.Task[ServerState]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.embeddings_stored = 0
        self.embed_requests = 0

    async def start(self) -> None:
        self.opted_out = await self.repository.opted_out()

    # --- per-server state ------------------------------------------------------------------

    async def state(self, guild_id: int) -> ServerState:
        """The server's state, loaded from the database on first use."""
        found = self._states.get(guild_id)
        if found is not None:
            self._states.move_to_end(guild_id)
            return found
        task = self._loading.get(guild_id)
        if task is None:
            task = self._loading[guild_id] = asyncio.ensure_future(self._load(guild_id))
        try:
            state = await asyncio.shield(task)
        finally:
            self._loading.pop(guild_id, None)
        self._states[guild_id] = state
        self._states.move_to_end(guild_id)
        while len(self._states) > self.settings.max_servers_loaded:
            self._states.popitem(last=False)
        return state

    def loaded(self, guild_id: int) -> ServerState | None:
        return self._states.get(guild_id)

    async def _load(self, guild_id: int) -> ServerState:
        began = time.perf_counter()
        community = Community(guild_id, self.settings.popularity_half_life_days * 86400.0)
        index = AnnIndex(m=self.settings.ann_m, ef_search=self.settings.ann_ef_search)
        items = await self.repository.guild_items(guild_id)
        rows, vectors, flags = [], [], []
        for item in items:
            row = community.add_item(
                item.id, item.creator_id, item.modality, item.nsfw, item.created_at.timestamp()
            )
            if item.embedding is not None:
                rows.append(row)
                vectors.append(item.embedding)
                flags.append(item.nsfw)
        if rows:
            await asyncio.to_thread(index.add, np.asarray(rows), np.stack(vectors), np.asarray(flags))
        for signal in await self.repository.guild_signals(guild_id):
            if signal.member_id not in self.opted_out:
                community.record(
                    signal.member_id, signal.item_id, signal.event, signal.created_at.timestamp()
                )
        state = ServerState(
            guild_id, community, index, Ranker(community, index, None, self.config, seed=guild_id)
        )
        state.signals_since_fit = community.signals
        log.info(
            "discovery: server %s loaded (%d items, %d with vectors, %d signals) in %.2f s",
            guild_id,
            len(items),
            len(rows),
            community.signals,
            time.perf_counter() - began,
        )
        if community.signals:
            await self.refit(state)
        return state

    # --- items -----------------------------------------------------------------------------

    async def add_item(self, item: NewItem) -> bool:
        """Store a new item, put it in its server's catalogue and ask for its embedding."""
        added = await self.repository.add_item(item)
        if not added:
            return False
        state = self.loaded(item.guild_id)
        if state is not None:
            state.community.add_item(
                item.id, item.creator_id, item.modality, item.nsfw, item.created_at.timestamp()
            )
        await self.request_embeddings(
            item.guild_id, [(item.id, item_text(item.modality, item.prompt, item.tags))]
        )
        return True

    async def request_embeddings(self, guild_id: int, texts: Sequence[tuple[str, str]]) -> int:
        """Send items' texts to the embedding queue (JSON); how many requests were sent."""
        if self.celery is None or not texts:
            return 0
        sent = 0
        for start in range(0, len(texts), EMBED_BATCH):
            chunk = texts[start : start + EMBED_BATCH]
            request = EmbedRequest(
                guild_id=guild_id, items=tuple(EmbedItem(item_id=i, text=t[:4000] or " ") for i, t in chunk)
            )
            payload = request.model_dump(mode="json")
            try:
                await asyncio.to_thread(
                    self.celery.send_task,
                    EMBED_TASK,
                    args=[payload],
                    queue=EMBED_QUEUE,
                    task_id=request.request_id,
                )
            except Exception as error:  # the broker's errors vary; the repair pass asks again
                log.warning("could not ask for embeddings (%s); will retry", error)
                continue
            await self.repository.mark_embed_requested([i for i, _ in chunk])
            self.embed_requests += 1
            sent += 1
        return sent

    def on_event(self, event: object) -> None:
        """The deliverer's event listener: embeddings coming back."""
        if isinstance(event, EmbeddedEvent):
            self.spawn(self.store_embeddings(event))

    async def store_embeddings(self, event: EmbeddedEvent) -> int:
        vectors = [(v.item_id, _unit(np.asarray(v.vector, dtype=np.float32))) for v in event.vectors]
        stored = set(await self.repository.set_embeddings(event.model, vectors))
        self.embeddings_stored += len(stored)
        state = self.loaded(event.guild_id)
        if state is not None:
            catalogue = state.community.catalogue
            pick = [(catalogue.rows[i], v) for i, v in vectors if i in stored and i in catalogue.rows]
            if pick:
                rows = np.asarray([r for r, _ in pick])
                state.index.add(rows, np.stack([v for _, v in pick]), catalogue.nsfw[rows])
        return len(stored)

    async def remove_item(self, item_id: str) -> bool:
        """An item deleted (its result was deleted): it and every signal on it go."""
        removed = await self.repository.remove_item(item_id)
        if removed is None:
            return False
        state = self.loaded(removed.guild_id)
        if state is not None:
            row = state.community.remove_item(item_id)
            if row is not None:
                state.index.remove(row)
        return True

    async def repair(self) -> int:
        """Ask again for embeddings that never came back; how many items were asked for."""
        before = utcnow() - timedelta(seconds=self.settings.embed_timeout_s)
        missing = await self.repository.needing_embeddings(before)
        by_guild: dict[int, list[tuple[str, str]]] = {}
        for item in missing:
            by_guild.setdefault(item.guild_id, []).append(
                (item.id, item_text(item.modality, item.prompt, item.tags))
            )
        for guild_id, texts in by_guild.items():
            await self.request_embeddings(guild_id, texts)
        return len(missing)

    # --- signals ---------------------------------------------------------------------------

    async def record(self, guild_id: int, member_id: int, item_id: str, event: str) -> bool:
        """A member's signal on an item of this server; False when not kept (opted out, another
        server's item, unknown item)."""
        if member_id in self.opted_out:
            return False
        if not await self.repository.add_signal(guild_id, member_id, item_id, event):
            return False
        state = self.loaded(guild_id)
        if state is not None and state.community.record(member_id, item_id, event, self.clock()):
            state.signals_since_fit += 1
        return True

    async def opt_out(self, member_id: int) -> int:
        """Stop keeping the member's signals and delete those kept, on every server."""
        self.opted_out.add(member_id)
        deleted = await self.repository.opt_out(member_id)
        for state in self._states.values():
            state.community.forget_member(member_id)
            state.shown.pop(member_id, None)
        return deleted

    async def opt_in(self, member_id: int) -> bool:
        self.opted_out.discard(member_id)
        return await self.repository.opt_in(member_id)

    # --- feeds -----------------------------------------------------------------------------

    def _request(
        self, state: ServerState, member_id: int, nsfw_allowed: bool, modality: str | None
    ) -> Request:
        now = self.clock()
        shown = state.shown.get(member_id, {})
        for row in [r for r, until in shown.items() if until <= now]:
            del shown[row]
        return Request(
            member_id=member_id,
            now=now,
            nsfw_allowed=nsfw_allowed,
            modality=modality,
            exclude=frozenset(shown),
        )

    async def feed(
        self,
        guild_id: int,
        member_id: int,
        *,
        nsfw_allowed: bool,
        modality: str | None = None,
        size: int | None = None,
    ) -> list[Pick]:
        """The member's next page on this server (each item then stays off their pages a while)."""
        state = await self.state(guild_id)
        request = self._request(state, member_id, nsfw_allowed, modality)
        rows = state.ranker.page(request, size or self.settings.page_size)
        until = request.now + self.settings.shown_ttl_s
        shown = state.shown.setdefault(member_id, {})
        for row in rows:
            shown[row] = until
        return await self._picks(state, rows)

    async def similar(
        self, guild_id: int, member_id: int, item_id: str, *, nsfw_allowed: bool, size: int | None = None
    ) -> list[Pick] | None:
        """Items like `item_id` for this member (None when the item is not this server's)."""
        state = await self.state(guild_id)
        row = state.community.catalogue.rows.get(item_id)
        if row is None or not state.community.catalogue.alive[row]:
            return None
        request = self._request(state, member_id, nsfw_allowed, None)
        rows = state.ranker.similar(
            row, Request(member_id, request.now, nsfw_allowed), size or self.settings.page_size
        )
        return await self._picks(state, rows)

    async def _picks(self, state: ServerState, rows: Sequence[int]) -> list[Pick]:
        ids = [state.community.catalogue.ids[r] for r in rows]
        found = {}
        for item_id in ids:
            item = await self.repository.item(item_id)
            if item is not None and item.guild_id == state.guild_id:
                found[item_id] = item
        return [Pick(found[i], r) for i, r in zip(ids, rows, strict=True) if i in found]

    # --- the collaborative model -----------------------------------------------------------

    async def refit(self, state: ServerState) -> bool:
        """Refit the server's collaborative model in a thread; True if a model is in use after."""
        if state.fitting:
            return False
        state.fitting = True
        try:
            community = state.community
            sequence = community.sequence
            n_items = len(community.catalogue)
            alive = community.catalogue.alive.copy()
            creator = community.catalogue.creator.copy()
            snapshot = [
                (member_id, list(m.rows), list(m.weights)) for member_id, m in community.members.items()
            ]

            def interactions() -> list[tuple[int, int, float]]:
                return [
                    (member_id, row, weight)
                    for member_id, rows, weights in snapshot
                    for row, weight in zip(rows, weights, strict=True)
                    if alive[row] and creator[row] != member_id
                ]

            params = ALSParams(factors=self.settings.factors)
            model = await asyncio.to_thread(lambda: ALSModel.fit(interactions(), n_items, params))
            state.last_fit = self.clock()
            state.signals_since_fit = 0
            if model is not None:
                state.ranker.collaborative = model
                community.fitted(sequence)
                state.fits += 1
            return state.ranker.collaborative is not None
        finally:
            state.fitting = False

    async def maintain(self) -> None:
        """One pass: refit servers due for it, ask again for lost embeddings."""
        now = self.clock()
        for state in list(self._states.values()):
            if (
                state.signals_since_fit >= self.settings.refit_min_signals
                and now - state.last_fit >= self.settings.refit_interval_s
            ):
                try:
                    await self.refit(state)
                except Exception:
                    log.exception("discovery: refitting server %s failed", state.guild_id)
        try:
            await self.repair()
        except Exception:
            log.exception("discovery: asking again for embeddings failed")

    async def run(self, interval_s: float = 30.0) -> None:
        """Maintain forever (the feature's background task)."""
        while True:
            await asyncio.sleep(interval_s)
            await self.maintain()

    # --- housekeeping ----------------------------------------------------------------------

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("discovery task failed", exc_info=task.exception())

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 1e-9 else vector
