"""The ranker's rules on a small server: what a member may never be shown, what cold members get,
that collaborative signals reach new work, that a page is varied and keeps room for new creators."""

from __future__ import annotations

import numpy as np

from bot.discovery.catalogue import Community
from bot.discovery.collaborative import ALSModel, ALSParams
from bot.discovery.ranking import DenseVectors, Ranker, RankerConfig, Request, Weights

DAY = 86400.0
NOW = 100 * DAY


def unit(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def server(n_items: int = 60, seed: int = 0) -> tuple[Community, np.ndarray]:
    """60 items by creators 1..6 (item i by creator 1 + i % 6), one a day, item 5 age-restricted."""
    rng = np.random.default_rng(seed)
    community = Community(7)
    vectors = unit(rng, n_items)
    for i in range(n_items):
        community.add_item(
            f"i{i}", 1 + i % 6, ("music", "image", "text")[i % 3], i == 5, NOW - (n_items - i) * DAY
        )
    return community, vectors


def ranker(community: Community, vectors: np.ndarray, **config: object) -> Ranker:
    dense = DenseVectors(vectors, nsfw=community.catalogue.nsfw.copy())
    return Ranker(community, dense, None, RankerConfig(**config))  # type: ignore[arg-type]


def every_page_row(r: Ranker, request: Request) -> set[int]:
    scored = r.score_all(request)
    return {int(x) for x in scored.rows}


def test_never_own_work_engaged_refused_or_age_restricted_outside_such_channels() -> None:
    community, vectors = server()
    member = 1  # also the creator of items 0, 6, 12, ...
    community.record(member, "i1", "reaction", NOW - DAY)
    community.record(member, "i2", "not_for_me", NOW - DAY)
    r = ranker(community, vectors)
    eligible = every_page_row(r, Request(member, NOW))
    rows = community.catalogue.rows
    assert not {rows[f"i{i}"] for i in range(0, 60, 6)} & eligible  # own work
    assert rows["i1"] not in eligible and rows["i2"] not in eligible  # engaged, refused
    assert rows["i5"] not in eligible  # age-restricted, ordinary channel
    assert rows["i5"] in every_page_row(r, Request(member, NOW, nsfw_allowed=True))
    page = r.page(Request(member, NOW), 10)
    assert len(page) == 10 and not set(page) - eligible


def test_the_future_and_removed_items_are_never_ranked() -> None:
    community, vectors = server()
    r = ranker(community, vectors)
    past = Request(2, NOW - 30.5 * DAY)
    assert max(every_page_row(r, past)) < 30
    community.remove_item("i3")
    assert community.catalogue.rows["i3"] not in every_page_row(r, Request(2, NOW))


def test_a_member_with_no_history_gets_the_servers_popular_work() -> None:
    community, vectors = server()
    for member in range(100, 110):
        community.record(member, "i40", "reaction", NOW - DAY)
        if member < 105:
            community.record(member, "i41", "play", NOW - DAY)
    r = ranker(
        community,
        vectors,
        weights=Weights(popularity=1.0, freshness=0.0),
        exploration_share=0.0,
        diversity=0.0,
    )
    page = r.page(Request(999, NOW), 3)
    assert page[:2] == [community.catalogue.rows["i40"], community.catalogue.rows["i41"]]


def test_content_similarity_follows_what_the_member_engaged_with() -> None:
    community, vectors = server()
    vectors[30] = vectors[20] + 0.05 * vectors[31]  # item 30 is nearly item 20
    vectors[30] /= np.linalg.norm(vectors[30])
    community.record(99, "i20", "more_like_this", NOW - DAY)
    r = ranker(community, vectors, weights=Weights(content=1.0, collaborative=0, popularity=0, freshness=0))
    assert r.page(Request(99, NOW), 1) == [community.catalogue.rows["i30"]]
    # and "not for me" pushes the refused item's near-copies down
    vectors[31] = vectors[30]
    row = np.asarray([community.catalogue.rows["i31"]])

    def content() -> float:
        member = community.members[99]
        return float(r.raw_parts(row, Request(99, NOW), member, None)["content"][0])

    before = content()
    community.record(99, "i30", "not_for_me", NOW - DAY)
    assert content() < before - 0.3


def test_collaborative_scores_reach_items_made_after_the_fit() -> None:
    community, vectors = server()
    for member in range(200, 220):  # two circles with different tastes
        group = range(0, 20) if member < 210 else range(20, 40)
        for i in group:
            if (i + member) % 3:
                community.record(member, f"i{i}", "reaction", NOW - 50 * DAY + i)
    model = ALSModel.fit(
        list(community.interactions()), len(community.catalogue), ALSParams(factors=8, iterations=8)
    )
    assert model is not None
    community.fitted(community.sequence)
    r = ranker(community, vectors, weights=Weights(content=0, collaborative=1.0, popularity=0, freshness=0))
    r.collaborative = model
    new = community.add_item("new", 50, "image", False, NOW - 1.0)
    for member in range(200, 205):  # the first circle takes to it
        community.record(member, "new", "reaction", NOW - 0.5)
    scores = r.collaborative_scores(community.members[206])
    other = r.collaborative_scores(community.members[215])
    assert scores is not None and other is not None
    assert np.isfinite(scores[new]) and scores[new] > other[new]


def test_a_page_is_varied_and_keeps_a_slot_for_new_creators() -> None:
    rng = np.random.default_rng(3)
    community = Community(7)
    base = unit(rng, 1)[0]
    vectors = []
    for i in range(40):  # 30 near-copies of one prompt by old creators, 10 varied items
        v = base + 0.02 * unit(rng, 1)[0] if i < 30 else unit(rng, 1)[0]
        vectors.append(v / np.linalg.norm(v))
        community.add_item(f"i{i}", 1 + i % 4, "image", False, NOW - 200 * DAY + i)
    community.add_item("fresh", 77, "image", False, NOW - DAY)  # a creator new to the server
    vectors.append(unit(rng, 1)[0])
    matrix = np.stack(vectors)
    for member in range(300, 320):
        for i in range(40):  # the copies a little more popular than the varied work
            if i < 30 or member < 315:
                community.record(member, f"i{i}", "reaction", NOW - 100 * DAY)
    plain = ranker(
        community,
        matrix,
        weights=Weights(popularity=1.0, freshness=0.0, content=0, collaborative=0),
        diversity=0.0,
        exploration_share=0.0,
    )
    varied = ranker(
        community,
        matrix,
        weights=Weights(popularity=1.0, freshness=0.0, content=0, collaborative=0),
        diversity=1.0,
        exploration_share=0.2,
    )
    request = Request(999, NOW)
    assert all(r < 30 for r in plain.page(request, 5))
    page = varied.page(request, 5)
    assert sum(1 for r in page if r >= 30) >= 2  # not five variations of one prompt
    assert community.catalogue.rows["fresh"] in page


def test_servers_are_separate_communities() -> None:
    """Signals of a member on one server say nothing on another (each server its own Community)."""
    a, _ = server(seed=1)
    b, _ = server(seed=2)
    a.record(5, "i10", "reaction", NOW - DAY)
    assert not b.record(5, "x-unknown", "reaction", NOW - DAY)
    assert 5 not in b.members and a.members[5].rows == [a.catalogue.rows["i10"]]
