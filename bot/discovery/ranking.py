"""The hybrid ranker: which of a server's items a member sees next.

Four parts score every candidate item for a member:
- content: cosine similarity of the item's embedding to the member's taste (a recency-weighted mean
  of what they engaged with, blended with the closest of their last few items, minus the closest of
  what they marked "not for me");
- collaborative: the member's ALS score (members who engaged like them engaged with it);
- popularity: members who engaged with it on this server, fading with a half-life;
- freshness: how new it is.

The parts live on different scales (a cosine, a dot product, a log count, a decay), so each is
standardised against the member's own eligible catalogue — its mean and spread estimated on a
random sample of it — before the weighted sum: adding raw scores lets one part drown the others.
A member with no history gets popularity and freshness only. The page is then picked by maximal
marginal relevance (a near-copy of an item already on the page loses to a different good one), and
a share of each page goes to new creators' work when none made it on merit.

Eligibility is decided before any scoring: the same server only (a `Community` holds one server),
never the member's own work, never what they engaged with or refused, never an age-restricted item
outside an age-restricted channel, never a removed item.

`Ranker.page` is the served path (candidates from each part's top items, an approximate nearest-
neighbour index for content); `Ranker.score_all` scores the whole eligible catalogue (the
evaluation's exact path).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from bot.discovery.catalogue import Community, Member, half_life_decay, log1p_safe, modality_code
from bot.discovery.collaborative import CollaborativeModel

PARTS: tuple[str, ...] = ("content", "collaborative", "popularity", "freshness")


@dataclass(frozen=True)
class Weights:
    """How much each standardised part counts in the hybrid."""

    content: float = 0.5
    collaborative: float = 0.25
    popularity: float = 0.25
    freshness: float = 1.0

    def of(self, part: str) -> float:
        return float(getattr(self, part))

    def as_dict(self) -> dict[str, float]:
        return {p: self.of(p) for p in PARTS}


@dataclass(frozen=True)
class RankerConfig:
    weights: Weights = field(default_factory=Weights)
    diversity: float = 0.3
    """MMR: how much a candidate's similarity to what is already on the page counts against it."""
    exploration_share: float = 0.2
    """Of each page, this share is kept for new creators' work (if none got there on merit)."""
    new_creator_days: float = 30.0
    new_creator_items: int = 3
    freshness_half_life_s: float = 7 * 86400.0
    profile_half_life: float = 8.0
    """In events: the member's taste leans to what they did recently."""
    nearest_share: float = 0.5
    """Content: the blend of similarity to the taste profile (0) and to the closest recent item (1)."""
    recent_items: int = 8
    negative_weight: float = 0.5
    candidates: int = 200
    """Per part, on the served path."""
    stat_sample: int = 256


class VectorSource(Protocol):
    """Item embeddings by row, and the nearest rows to a query (an ANN index or a dense matrix)."""

    dim: int

    def vectors(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(len(rows), dim) unit vectors (zeros where none yet) and a mask of those that exist."""
        ...

    def nearest(self, query: np.ndarray, k: int, nsfw: bool) -> np.ndarray:
        """Up to k rows closest to `query` by cosine; age-restricted rows only when `nsfw`."""
        ...


@dataclass
class Request:
    """Who asks, when, and from where."""

    member_id: int
    now: float
    nsfw_allowed: bool = False
    """True only in an age-restricted channel."""
    modality: str | None = None
    exclude: frozenset[int] = frozenset()
    """Rows shown to the member already (earlier pages)."""


@dataclass
class Scored:
    """A member's eligible candidates with each part's standardised score and the hybrid."""

    rows: np.ndarray
    parts: dict[str, np.ndarray]
    hybrid: np.ndarray


class Ranker:
    """Ranks one server's items for its members (see the module's docstring)."""

    def __init__(
        self,
        community: Community,
        vectors: VectorSource,
        collaborative: CollaborativeModel | None = None,
        config: RankerConfig | None = None,
        seed: int = 0,
    ) -> None:
        self.community = community
        self.vectors = vectors
        self.collaborative = collaborative
        self.config = config or RankerConfig()
        self.rng = np.random.default_rng(seed)

    # --- who may see what ------------------------------------------------------------------

    def eligible(self, request: Request, member: Member | None = None) -> np.ndarray:
        """A mask over the catalogue's rows: what this member may be shown here, now."""
        catalogue = self.community.catalogue
        member = member if member is not None else self.community.members.get(request.member_id)
        mask = catalogue.alive & (catalogue.creator != request.member_id) & (catalogue.time <= request.now)
        if not request.nsfw_allowed:
            mask &= ~catalogue.nsfw
        if request.modality is not None:
            mask &= catalogue.modality == modality_code(request.modality)
        blocked = list(request.exclude)
        if member is not None:
            blocked += member.rows
            blocked += list(member.negatives)
        if blocked:
            mask[np.asarray(blocked, dtype=np.int64)] = False
        return mask

    # --- the parts -------------------------------------------------------------------------

    def _taste(self, member: Member | None) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """The member's profile vector, their recent items' vectors and their refusals' vectors."""
        if member is None or not member.rows:
            return None, None, None
        config = self.config
        rows = np.asarray(member.rows[-64:], dtype=np.int64)
        weights = np.asarray(member.weights[-64:], dtype=np.float64)
        vectors, has = self.vectors.vectors(rows)
        if not has.any():
            profile = None
        else:
            age = np.arange(len(rows))[::-1]
            w = weights * np.exp2(-age / config.profile_half_life) * has
            profile = (w[:, None] * vectors).sum(axis=0)
            norm = float(np.linalg.norm(profile))
            profile = profile / norm if norm > 1e-9 else None
        recent = vectors[has][-config.recent_items :] if has.any() else None
        negatives = None
        if member.negatives:
            negative_vectors, negative_has = self.vectors.vectors(np.asarray(sorted(member.negatives)))
            negatives = negative_vectors[negative_has] if negative_has.any() else None
        return (
            None if profile is None else profile.astype(np.float32),
            recent,
            negatives,
        )

    def raw_parts(
        self,
        rows: np.ndarray,
        request: Request,
        member: Member | None,
        collaborative_scores: np.ndarray | None,
        taste: tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None] | None = None,
    ) -> dict[str, np.ndarray]:
        """Each part's raw score for `rows` (NaN where a part has nothing to say)."""
        config = self.config
        n = len(rows)
        parts: dict[str, np.ndarray] = {}
        profile, recent, negatives = taste if taste is not None else self._taste(member)
        if profile is not None:
            vectors, has = self.vectors.vectors(rows)
            content = (1.0 - config.nearest_share) * (vectors @ profile)
            if recent is not None and len(recent):
                content += config.nearest_share * (vectors @ recent.T).max(axis=1)
            if negatives is not None and len(negatives):
                content -= config.negative_weight * np.maximum((vectors @ negatives.T).max(axis=1), 0.0)
            parts["content"] = np.where(has, content, np.nan)
        else:
            parts["content"] = np.full(n, np.nan)
        if collaborative_scores is not None:
            fitted = rows < len(collaborative_scores)
            cf = np.full(n, np.nan)
            cf[fitted] = collaborative_scores[rows[fitted]]
            parts["collaborative"] = cf
        else:
            parts["collaborative"] = np.full(n, np.nan)
        catalogue = self.community.catalogue
        popularity = self.community.popularity.decayed(len(catalogue), request.now)
        parts["popularity"] = log1p_safe(popularity[rows])
        age = request.now - catalogue.time[rows]
        parts["freshness"] = half_life_decay(age, config.freshness_half_life_s)
        return parts

    def refresh_collaborative(self) -> None:
        """Fold items engaged with since the fit into the collaborative model."""
        community = self.community
        if self.collaborative is not None and community.dirty:
            dirty = community.dirty
            community.dirty = set()
            self.collaborative.fold_in_items({r: community.fresh[r] for r in dirty if r in community.fresh})

    def collaborative_scores(self, member: Member | None) -> np.ndarray | None:
        if self.collaborative is None or member is None or not member.rows:
            return None
        self.refresh_collaborative()
        return self.collaborative.member_scores(
            member.rows, member.weights, member.negatives, len(self.community.catalogue)
        )

    @staticmethod
    def standardise(raw: dict[str, np.ndarray], sample: np.ndarray) -> dict[str, np.ndarray]:
        """z-scores against the sample positions' mean and spread (NaN and constant parts: 0)."""
        out: dict[str, np.ndarray] = {}
        for part, values in raw.items():
            reference = values[sample]
            reference = reference[np.isfinite(reference)]
            if len(reference) < 2:
                out[part] = np.zeros(len(values))
                continue
            mean, spread = float(reference.mean()), float(reference.std())
            if spread < 1e-9:
                out[part] = np.zeros(len(values))
                continue
            z = (values - mean) / spread
            out[part] = np.where(np.isfinite(z), z, 0.0)
        return out

    @staticmethod
    def fuse(parts: dict[str, np.ndarray], weights: Weights) -> np.ndarray:
        total = np.zeros(len(next(iter(parts.values()))))
        for part in PARTS:
            weight = weights.of(part)
            if weight:
                total = total + weight * parts[part]
        return total

    # --- the exact path (evaluation) -------------------------------------------------------

    def score_all(self, request: Request) -> Scored:
        """Every eligible item, scored (the whole eligible catalogue: no candidate generation)."""
        member = self.community.members.get(request.member_id)
        rows = np.flatnonzero(self.eligible(request, member))
        raw = self.raw_parts(rows, request, member, self.collaborative_scores(member))
        parts = self.standardise(raw, np.arange(len(rows)))
        return Scored(rows, parts, self.fuse(parts, self.config.weights))

    # --- the served path -------------------------------------------------------------------

    def candidates(
        self,
        request: Request,
        member: Member | None,
        mask: np.ndarray,
        collaborative_scores: np.ndarray | None,
        profile: np.ndarray | None,
        recent: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each part's top eligible rows, new creators' newest, and a random sample of the eligible
        catalogue (which the standardisation is estimated on); returns (rows, sample positions)."""
        k = self.config.candidates
        catalogue = self.community.catalogue
        eligible_rows = np.flatnonzero(mask)
        if len(eligible_rows) <= 4 * k:  # small catalogue: score it all
            return eligible_rows, np.arange(len(eligible_rows))
        picked: list[np.ndarray] = []
        sample = self.rng.choice(
            eligible_rows, size=min(self.config.stat_sample, len(eligible_rows)), replace=False
        )
        picked.append(sample)
        if collaborative_scores is not None:
            picked.append(_top_masked(collaborative_scores, mask[: len(collaborative_scores)], k))
        if profile is not None:
            queries = [profile, *(list(recent[-3:]) if recent is not None else [])]
            for i, query in enumerate(queries):
                found = self.vectors.nearest(query, k if i == 0 else k // 2, request.nsfw_allowed)
                picked.append(found[mask[found]])
        popularity = self.community.popularity.decayed(len(catalogue), request.now)
        picked.append(_top_masked(popularity, mask, k))
        picked.append(_top_masked(catalogue.time, mask, k))
        if self.config.exploration_share > 0:
            new = catalogue.new_creator_mask(
                request.now, self.config.new_creator_days, self.config.new_creator_items
            )
            picked.append(_top_masked(catalogue.time, mask & new, k // 2))
        rows = np.unique(np.concatenate(picked))
        positions = np.searchsorted(rows, sample)
        return rows, positions

    def page(self, request: Request, k: int) -> list[int]:
        """The member's next `k` items (rows), best first."""
        with one_blas_thread():
            scored = self.served(request)
            return self.select(scored, k, request)

    def served(self, request: Request) -> Scored:
        """Candidates scored as on the served path."""
        member = self.community.members.get(request.member_id)
        mask = self.eligible(request, member)
        taste = self._taste(member)
        collaborative_scores = self.collaborative_scores(member)
        rows, sample = self.candidates(request, member, mask, collaborative_scores, taste[0], taste[1])
        raw = self.raw_parts(rows, request, member, collaborative_scores, taste)
        parts = self.standardise(raw, sample)
        return Scored(rows, parts, self.fuse(parts, self.config.weights))

    # --- the page: diversity and exploration -----------------------------------------------

    def select(self, scored: Scored, k: int, request: Request, *, explore: bool = True) -> list[int]:
        """Pick `k` rows by MMR over the best candidates, then keep room for new creators."""
        if len(scored.rows) == 0 or k <= 0:
            return []
        order = np.argsort(-scored.hybrid, kind="stable")
        pool = order[: max(10 * k, 50)]
        chosen = self._mmr(scored.rows[pool], scored.hybrid[pool], k)
        if explore and self.config.exploration_share > 0:
            chosen = self._explore(chosen, scored, order, k, request)
        return chosen

    def _mmr(self, rows: np.ndarray, relevance: np.ndarray, k: int) -> list[int]:
        diversity = self.config.diversity
        if diversity <= 0 or len(rows) <= 1:
            return [int(r) for r in rows[:k]]
        vectors, _ = self.vectors.vectors(rows)
        low, high = float(relevance.min()), float(relevance.max())
        rel = (relevance - low) / (high - low) if high > low else np.zeros(len(rows))
        similarity = vectors @ vectors.T
        chosen: list[int] = []
        closest = np.full(len(rows), -np.inf)
        available = np.ones(len(rows), dtype=bool)
        for _ in range(min(k, len(rows))):
            penalty = np.where(np.isfinite(closest), np.maximum(closest, 0.0), 0.0)
            value = np.where(available, rel - diversity * penalty, -np.inf)
            best = int(np.argmax(value))
            chosen.append(best)
            available[best] = False
            closest = np.maximum(closest, similarity[best])
        return [int(rows[i]) for i in chosen]

    def _explore(
        self, chosen: list[int], scored: Scored, order: np.ndarray, k: int, request: Request
    ) -> list[int]:
        catalogue = self.community.catalogue
        slots = math.ceil(k * self.config.exploration_share - 1e-9)
        if slots <= 0 or len(chosen) < k:
            return chosen
        new = catalogue.new_creator_mask(
            request.now, self.config.new_creator_days, self.config.new_creator_items
        )
        have = sum(1 for r in chosen if new[r])
        need = slots - have
        if need <= 0:
            return chosen
        taken = set(chosen)
        extra = [int(r) for r in scored.rows[order] if new[r] and int(r) not in taken][:need]
        if not extra:
            return chosen
        result = list(chosen)
        replace_at = [i for i in range(len(result) - 1, -1, -1) if not new[result[i]]][: len(extra)]
        for position, row in zip(sorted(replace_at), extra, strict=False):
            result[position] = row
        return result

    # --- similar items ---------------------------------------------------------------------

    def similar(self, row: int, request: Request, k: int) -> list[int]:
        """Items like `row` that this member may see: content neighbours, then collaborative ones."""
        with one_blas_thread():
            return self._similar(row, request, k)

    def _similar(self, row: int, request: Request, k: int) -> list[int]:
        member = self.community.members.get(request.member_id)
        mask = self.eligible(request, member)
        mask[row] = False
        vectors, has = self.vectors.vectors(np.asarray([row]))
        picked: list[np.ndarray] = []
        if has[0]:
            found = self.vectors.nearest(vectors[0], self.config.candidates, request.nsfw_allowed)
            picked.append(found[mask[found]])
        cf = self.collaborative.similar_items(row) if self.collaborative is not None else None
        if cf is not None:
            picked.append(_top_masked(cf, mask[: len(cf)], self.config.candidates))
        if not picked:
            return []
        rows = np.unique(np.concatenate(picked))
        if len(rows) == 0:
            return []
        raw: dict[str, np.ndarray] = {}
        if has[0]:
            candidate_vectors, candidate_has = self.vectors.vectors(rows)
            raw["content"] = np.where(candidate_has, candidate_vectors @ vectors[0], np.nan)
        else:
            raw["content"] = np.full(len(rows), np.nan)
        if cf is not None:
            values = np.full(len(rows), np.nan)
            fitted = rows < len(cf)
            values[fitted] = cf[rows[fitted]]
            raw["collaborative"] = values
        else:
            raw["collaborative"] = np.full(len(rows), np.nan)
        popularity = self.community.popularity.decayed(len(self.community.catalogue), request.now)
        raw["popularity"] = log1p_safe(popularity[rows])
        raw["freshness"] = np.zeros(len(rows))
        parts = self.standardise(raw, np.arange(len(rows)))
        weights = replace(self.config.weights, popularity=0.2 * self.config.weights.popularity, freshness=0.0)
        scored = Scored(rows, parts, self.fuse(parts, weights))
        return self.select(scored, k, request, explore=False)


_blas: Any = None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """One query's small products on one BLAS thread: on a busy event loop, BLAS's worker threads
    only wait for each other (measured in bench/discover.py)."""
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        _blas = ThreadpoolController()
    with _blas.limit(limits=1, user_api="blas"):
        yield


def _top_masked(values: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """The rows of the k largest values where `mask` holds."""
    rows = np.flatnonzero(mask)
    if len(rows) <= k:
        return rows
    chosen = np.nan_to_num(values[rows], nan=-np.inf)
    top = np.argpartition(-chosen, k - 1)[:k]
    return np.asarray(rows[top])


class DenseVectors:
    """Embeddings in a dense matrix, searched exactly (the evaluation, and small servers' tests)."""

    def __init__(self, matrix: np.ndarray, present: np.ndarray | None = None, nsfw: np.ndarray | None = None):
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.dim = self.matrix.shape[1]
        self.present = present if present is not None else np.ones(len(matrix), dtype=bool)
        self.nsfw = nsfw if nsfw is not None else np.zeros(len(matrix), dtype=bool)

    def vectors(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64)
        inside = rows < len(self.matrix)
        out = np.zeros((len(rows), self.dim), dtype=np.float32)
        has = np.zeros(len(rows), dtype=bool)
        out[inside] = self.matrix[rows[inside]]
        has[inside] = self.present[rows[inside]]
        out[~has] = 0.0
        return out, has

    def nearest(self, query: np.ndarray, k: int, nsfw: bool) -> np.ndarray:
        scores = self.matrix @ query
        allowed = self.present if nsfw else self.present & ~self.nsfw
        return _top_masked(scores, allowed, k)


def rank_of(scores: np.ndarray, target: int) -> int:
    """0-based rank of position `target` (ties counted against it: no credit for a tie)."""
    return int(
        (scores > scores[target]).sum()
        + (scores[np.arange(len(scores)) != target] == scores[target]).sum() // 2
    )


def ndcg_at(rank: int, k: int) -> float:
    return 1.0 / math.log2(rank + 2) if rank < k else 0.0


def intra_list_diversity(vectors: np.ndarray) -> float:
    """Mean pairwise (1 − cosine) within a list."""
    n = len(vectors)
    if n < 2:
        return 0.0
    similarity = vectors @ vectors.T
    return float((n * n - similarity.sum()) / (n * (n - 1)))


def as_rows(values: Sequence[int]) -> np.ndarray:
    return np.asarray(list(values), dtype=np.int64)
