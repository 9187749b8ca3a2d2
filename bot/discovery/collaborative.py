"""Collaborative signals: what members with similar engagement liked.

`ALSModel` is implicit's alternating least squares on a server's member × item engagement matrix
(Hu, Koren & Volinsky's confidence-weighted factorisation), fitted in the background now and then;
a member's own vector is folded in at query time from their current history (one small linear
solve), so what they did a second ago counts before the next fit. Items newer than the last fit
have no factors yet: the content score and freshness carry them until then.

`EASEModel` (Steck 2019, closed form) is kept for comparison in the evaluation: it needs an
item × item inverse, so it only suits catalogues of a few thousand items.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ALSParams:
    factors: int = 48
    regularization: float = 0.05
    alpha: float = 20.0
    iterations: int = 12
    seed: int = 7


class CollaborativeModel:
    """The interface the ranker uses: a member's score for every fitted item, and item neighbours."""

    n_items: int = 0
    """Rows 0..n_items-1 of the catalogue have collaborative scores; later rows have none."""

    def member_scores(self, rows: Sequence[int], weights: Sequence[float], negatives: Iterable[int]) -> np.ndarray:
        raise NotImplementedError

    def similar_items(self, row: int) -> np.ndarray | None:
        """Every fitted item's similarity to `row` (None when `row` has no factors)."""
        raise NotImplementedError


def engagement_matrix(
    interactions: Iterable[tuple[int, int, float]], n_items: int
) -> tuple[sparse.csr_matrix, dict[int, int]]:
    """A members × items matrix of summed engagement weights; the member ids' row numbers."""
    members: dict[int, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for member, item, weight in interactions:
        if item >= n_items:
            continue
        rows.append(members.setdefault(member, len(members)))
        cols.append(item)
        vals.append(weight)
    matrix = sparse.csr_matrix(
        (np.asarray(vals, dtype=np.float32), (rows, cols)), shape=(len(members), n_items), dtype=np.float32
    )
    matrix.sum_duplicates()
    return matrix, members


class ALSModel(CollaborativeModel):
    """implicit's ALS, with a member's vector folded in from their history at query time."""

    def __init__(self, item_factors: np.ndarray, params: ALSParams) -> None:
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
        self.params = params
        self.n_items = len(item_factors)
        f = self.item_factors.shape[1]
        self._gram = self.item_factors.T @ self.item_factors + params.regularization * np.eye(f, dtype=np.float32)
        norms = np.linalg.norm(self.item_factors, axis=1)
        self._unit = self.item_factors / np.maximum(norms, 1e-9)[:, None]
        self._fitted = norms > 1e-6

    @classmethod
    def fit(
        cls, interactions: Iterable[tuple[int, int, float]], n_items: int, params: ALSParams | None = None
    ) -> ALSModel | None:
        """Fit on (member, row, weight) engagements; None when there is too little to learn from."""
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        params = params or ALSParams()
        matrix, members = engagement_matrix(interactions, n_items)
        if matrix.nnz < 10 or len(members) < 2:
            return None
        model = AlternatingLeastSquares(
            factors=params.factors,
            regularization=params.regularization,
            alpha=params.alpha,
            iterations=params.iterations,
            calculate_training_loss=False,
            random_state=params.seed,
        )
        with threadpool_limits(1, "blas"):  # implicit parallelises itself; BLAS threads only fight it
            model.fit(matrix, show_progress=False)
        factors = np.asarray(model.item_factors, dtype=np.float32)
        factors[np.asarray(matrix.getnnz(axis=0)) == 0] = 0.0  # never engaged: no opinion
        return cls(factors, params)

    def member_vector(
        self, rows: Sequence[int], weights: Sequence[float], negatives: Iterable[int] = ()
    ) -> np.ndarray | None:
        """Fold a member in: x = (YᵀY + λI + Σ (c−1) y yᵀ)⁻¹ Σ c y, with c = α·weight (as implicit)."""
        pairs = [(r, w) for r, w in zip(rows, weights, strict=True) if r < self.n_items and self._fitted[r]]
        refused = [r for r in negatives if r < self.n_items and self._fitted[r]]
        if not pairs:
            return None
        index = np.fromiter((r for r, _ in pairs), dtype=np.int64, count=len(pairs))
        confidence = self.params.alpha * np.fromiter((w for _, w in pairs), dtype=np.float32, count=len(pairs))
        factors = self.item_factors[index]
        gram = self._gram + (factors.T * (confidence - 1.0)) @ factors
        b = factors.T @ confidence
        if refused:
            negative = self.item_factors[np.asarray(refused)]
            gram = gram + (self.params.alpha - 1.0) * (negative.T @ negative)
        return np.asarray(np.linalg.solve(gram, b), dtype=np.float32)

    def member_scores(
        self, rows: Sequence[int], weights: Sequence[float], negatives: Iterable[int] = ()
    ) -> np.ndarray:
        vector = self.member_vector(rows, weights, negatives)
        if vector is None:
            return np.zeros(self.n_items, dtype=np.float32)
        return np.asarray(self.item_factors @ vector)

    def similar_items(self, row: int) -> np.ndarray | None:
        if row >= self.n_items or not self._fitted[row]:
            return None
        return np.asarray(self._unit @ self._unit[row])


class EASEModel(CollaborativeModel):
    """EASE: B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹; a member's scores are x·B (dense: small
    catalogues only, kept to compare against ALS in the evaluation)."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights
        self.n_items = len(weights)

    @classmethod
    def fit(
        cls, interactions: Iterable[tuple[int, int, float]], n_items: int, regularization: float = 250.0
    ) -> EASEModel | None:
        matrix, members = engagement_matrix(interactions, n_items)
        if matrix.nnz < 10:
            return None
        binary = (matrix > 0).astype(np.float64)
        gram = (binary.T @ binary).toarray()
        gram[np.diag_indices(n_items)] += regularization
        inverse = np.linalg.inv(gram)
        weights = -inverse / np.diag(inverse)
        weights[np.diag_indices(n_items)] = 0.0
        return cls(weights.astype(np.float32))

    def member_scores(
        self, rows: Sequence[int], weights: Sequence[float], negatives: Iterable[int] = ()
    ) -> np.ndarray:
        picked = [r for r in rows if r < self.n_items]
        if not picked:
            return np.zeros(self.n_items, dtype=np.float32)
        return np.asarray(self.weights[np.asarray(picked)].sum(axis=0))

    def similar_items(self, row: int) -> np.ndarray | None:
        return None if row >= self.n_items else np.asarray(self.weights[row])
