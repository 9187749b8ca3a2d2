"""Discovery's state through its service, on a real database: items in, embeddings back, feeds per
server, and the rules: never across servers, never age-restricted outside such channels, never the
member's own work or what they refused; opting out and deleting a result remove signals."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import numpy as np

from bot.discovery.repository import DiscoveryRepository, NewItem
from bot.discovery.service import DiscoveryService
from tests.bot.discovery.conftest import SentTasks
from wire.contract import EmbeddedEvent, EmbeddedVector, EmbedRequest, utcnow
from wire.routing import EMBED_QUEUE, EMBED_TASK

A, B = 1001, 2002


def vector(seed: int, dim: int = 384) -> tuple[float, ...]:
    v = np.random.default_rng(seed).normal(size=dim)
    return tuple(float(x) for x in v / np.linalg.norm(v))


async def fill(
    discovery: DiscoveryService, guild: int, n: int, creator_base: int, **extra: object
) -> list[str]:
    ids = []
    for i in range(n):
        item_id = f"g{guild}-{i}"
        await discovery.add_item(
            NewItem(
                id=item_id,
                guild_id=guild,
                creator_id=creator_base + i % 3,
                modality="image",
                prompt=f"picture {i}",
                created_at=utcnow() - timedelta(hours=n - i),
                **extra,  # type: ignore[arg-type]
            )
        )
        ids.append(item_id)
    return ids


async def embed_all(discovery: DiscoveryService, broker: SentTasks) -> None:
    """Answer every embedding request as the worker would."""
    for name, payload, queue in broker.sent:
        assert (name, queue) == (EMBED_TASK, EMBED_QUEUE)
        request = EmbedRequest.model_validate(payload)
        await discovery.store_embeddings(
            EmbeddedEvent(
                request_id=request.request_id,
                guild_id=request.guild_id,
                model="all-MiniLM-L6-v2",
                vectors=tuple(
                    EmbeddedVector(item_id=i.item_id, vector=vector(hash(i.item_id) % 1000))
                    for i in request.items
                ),
            )
        )
    broker.sent.clear()


async def test_items_are_embedded_on_their_queue_and_feeds_never_cross_servers(
    discovery: DiscoveryService, broker: SentTasks, repository: DiscoveryRepository
) -> None:
    a_items = await fill(discovery, A, 12, 10)
    b_items = await fill(discovery, B, 12, 20)
    assert len(broker.sent) == 24 and all(
        p["items"][0]["text"].startswith("image: ") for _, p, _ in broker.sent
    )
    await embed_all(discovery, broker)
    stored = await repository.item(a_items[0])
    assert stored is not None and stored.embedding is not None and stored.embedding.shape == (384,)
    member = 500  # in both servers
    await discovery.record(A, member, a_items[1], "reaction")
    assert not await discovery.record(A, member, b_items[1], "reaction")  # another server's item: refused
    for guild, mine, theirs in ((A, a_items, b_items), (B, b_items, a_items)):
        seen: set[str] = set()
        for _ in range(4):
            page = await discovery.feed(guild, member, nsfw_allowed=False)
            seen |= {p.item.id for p in page}
        assert seen and seen <= set(mine) and not seen & set(theirs)
    # /similar and "More like this" on another server's item: not found there, nothing leaks
    assert await discovery.similar(B, member, a_items[2], nsfw_allowed=False) is None
    near = await discovery.similar(A, member, a_items[2], nsfw_allowed=False)
    assert near and {p.item.id for p in near} <= set(a_items)
    state = await discovery.state(A)
    assert state.index.count == 12


async def test_never_own_work_refused_or_age_restricted_outside_such_channels(
    discovery: DiscoveryService, broker: SentTasks
) -> None:
    plain = await fill(discovery, A, 9, 10)
    restricted = await fill(discovery, A, 0, 10)
    await discovery.add_item(
        NewItem(id="nsfw-1", guild_id=A, creator_id=77, modality="image", prompt="x", nsfw=True)
    )
    restricted.append("nsfw-1")
    await embed_all(discovery, broker)
    creator = 10  # made plain[0], plain[3], plain[6]
    await discovery.record(A, creator, plain[1], "not_for_me")
    shown: set[str] = set()
    for _ in range(5):
        shown |= {p.item.id for p in await discovery.feed(A, creator, nsfw_allowed=False)}
    assert shown.isdisjoint({plain[0], plain[3], plain[6], plain[1], "nsfw-1"})
    assert shown  # the rest is there
    in_channel = {p.item.id for p in await discovery.feed(A, 999, nsfw_allowed=True, size=5)}
    more = {p.item.id for p in await discovery.feed(A, 999, nsfw_allowed=True, size=5)}
    assert "nsfw-1" in in_channel | more
    similar = await discovery.similar(A, creator, plain[2], nsfw_allowed=False)
    assert similar is not None
    assert {p.item.id for p in similar}.isdisjoint(
        {plain[0], plain[3], plain[6], plain[1], plain[2], "nsfw-1"}
    )


async def test_opting_out_removes_the_members_signals_and_keeps_none(
    discovery: DiscoveryService, broker: SentTasks, repository: DiscoveryRepository
) -> None:
    a_items = await fill(discovery, A, 6, 10)
    b_items = await fill(discovery, B, 6, 20)
    await discovery.state(A)
    for item in a_items[1:3]:
        assert await discovery.record(A, 42, item, "reaction")
    assert await discovery.record(B, 42, b_items[1], "play")
    assert await discovery.record(A, 43, a_items[1], "play")
    assert await repository.member_signals(42) == 3
    assert await discovery.opt_out(42) == 3
    assert await repository.member_signals(42) == 0 and await repository.member_signals(43) == 1
    state = await discovery.state(A)
    assert 42 not in state.community.members
    assert (
        state.community.popularity.counts(len(state.community.catalogue))[
            state.community.catalogue.rows[a_items[1]]
        ]
        == 1
    )
    assert not await discovery.record(A, 42, a_items[3], "reaction")  # nothing new is kept
    assert await repository.member_signals(42) == 0
    fresh = DiscoveryService(repository, discovery.settings, None)  # another process, or a restart
    await fresh.start()
    assert 42 in fresh.opted_out and not await fresh.record(A, 42, a_items[3], "reaction")
    await discovery.opt_in(42)
    assert await discovery.record(A, 42, a_items[3], "reaction")


async def test_deleting_a_result_removes_it_and_every_signal_on_it(
    discovery: DiscoveryService, broker: SentTasks, repository: DiscoveryRepository
) -> None:
    items = await fill(discovery, A, 6, 10)
    await embed_all(discovery, broker)
    await discovery.record(A, 50, items[1], "reaction")
    await discovery.record(A, 51, items[1], "more_like_this")
    await discovery.record(A, 51, items[2], "play")
    assert await discovery.remove_item(items[1])
    assert await repository.item(items[1]) is None
    assert await repository.member_signals(50) == 0 and await repository.member_signals(51) == 1
    for _ in range(3):
        assert items[1] not in {p.item.id for p in await discovery.feed(A, 52, nsfw_allowed=False)}
    reloaded = DiscoveryService(repository, discovery.settings, None)
    await reloaded.start()
    state = await reloaded.state(A)
    assert items[1] not in state.community.catalogue.rows and 50 not in state.community.members


async def test_lost_embedding_requests_are_sent_again_and_refits_use_the_signals(
    discovery: DiscoveryService, broker: SentTasks, repository: DiscoveryRepository
) -> None:
    items = await fill(discovery, A, 8, 10)
    broker.sent.clear()  # lost on the way
    discovery.settings = discovery.settings.model_copy(update={"embed_timeout_s": 0.001})
    await asyncio.sleep(0.01)
    assert await discovery.repair() == 8 and len(broker.sent) == 1  # one batch
    await embed_all(discovery, broker)
    assert await discovery.repair() == 0
    state = await discovery.state(A)
    for member in range(60, 70):
        for item in items[: 3 + member % 4]:
            await discovery.record(A, member, item, "reaction")
    await discovery.maintain()
    assert state.fits >= 1 and state.ranker.collaborative is not None
