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
import warnings
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
    """The interface the ranker uses: a member's score for every item, and item neighbours."""

    n_items: int = 0
    """Rows 0..n_items-1 of the catalogue were known to the fit."""

    def member_scores(
        self, rows: Sequence[int], weights: Sequence[float], negatives: Iterable[int], n_total: int
    ) -> np.ndarray:
        """A score for each of `n_total` rows (NaN where the model knows nothing of the item)."""
        raise NotImplementedError

    def similar_items(self, row: int) -> np.ndarray | None:
        """Every fitted item's similarity to `row` (None when `row` has no factors)."""
        raise NotImplementedError

    def fold_in_items(self, engagements: dict[int, dict[int, float]]) -> int:
        """Give items engaged with since the fit a place in the model; how many got one."""
        return 0


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
    """implicit's ALS; a member's vector is folded in from their history at query time, and an item
    engaged with since the fit is folded in from its engagers' vectors (so new work has a
    collaborative score long before the next fit)."""

    def __init__(
        self,
        item_factors: np.ndarray,
        user_factors: np.ndarray,
        members: dict[int, int],
        params: ALSParams,
    ) -> None:
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
        self.user_factors = np.ascontiguousarray(user_factors, dtype=np.float32)
        self.members = members
        self.params = params
        self.n_items = len(item_factors)
        eye = params.regularization * np.eye(self.item_factors.shape[1], dtype=np.float32)
        self._item_gram = self.item_factors.T @ self.item_factors + eye
        self._user_gram = self.user_factors.T @ self.user_factors + eye
        norms = np.linalg.norm(self.item_factors, axis=1)
        self._unit = self.item_factors / np.maximum(norms, 1e-9)[:, None]
        self._fitted = norms > 1e-6
        self.folded: dict[int, np.ndarray] = {}
        self._folded_rows = np.zeros(0, dtype=np.int64)
        self._folded_factors = np.zeros((0, self.item_factors.shape[1]), dtype=np.float32)

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
        # implicit parallelises itself; BLAS threads only fight it (its warning says as much)
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*OpenBLAS is configured.*")
            model = AlternatingLeastSquares(
                factors=params.factors,
                regularization=params.regularization,
                alpha=params.alpha,
                iterations=params.iterations,
                calculate_training_loss=False,
                random_state=params.seed,
            )
            model.fit(matrix, show_progress=False)
        factors = np.asarray(model.item_factors, dtype=np.float32)
        factors[np.asarray(matrix.getnnz(axis=0)) == 0] = 0.0  # never engaged: no opinion
        return cls(factors, np.asarray(model.user_factors, dtype=np.float32), members, params)

    def factor(self, row: int) -> np.ndarray | None:
        if row < self.n_items and self._fitted[row]:
            return self.item_factors[row]
        return self.folded.get(row)

    def fold_in_items(self, engagements: dict[int, dict[int, float]]) -> int:
        """y = (XᵀX + λI + Σ (c−1) x xᵀ)⁻¹ Σ c x over the item's engagers known to the fit."""
        added = 0
        for row, engagers in engagements.items():
            if row < self.n_items and self._fitted[row]:
                continue  # fitted items keep their factors until the next fit
            known = [(self.members[m], w) for m, w in engagers.items() if m in self.members and w > 0]
            if not known:
                continue
            index = np.fromiter((u for u, _ in known), dtype=np.int64, count=len(known))
            confidence = self.params.alpha * np.fromiter(
                (w for _, w in known), dtype=np.float32, count=len(known)
            )
            x = self.user_factors[index]
            gram = self._user_gram + (x.T * (confidence - 1.0)) @ x
            self.folded[row] = np.asarray(np.linalg.solve(gram, x.T @ confidence), dtype=np.float32)
            added += 1
        if added:
            self._folded_rows = np.fromiter(self.folded, dtype=np.int64, count=len(self.folded))
            self._folded_factors = np.stack([self.folded[int(r)] for r in self._folded_rows])
        return added

    def member_vector(
        self, rows: Sequence[int], weights: Sequence[float], negatives: Iterable[int] = ()
    ) -> np.ndarray | None:
        """Fold a member in: x = (YᵀY + λI + Σ (c−1) y yᵀ)⁻¹ Σ c y, with c = α·weight (as implicit)."""
        found = [(self.factor(r), w) for r, w in zip(rows, weights, strict=True)]
        pairs = [(f, w) for f, w in found if f is not None and w > 0]
        if not pairs:
            return None
        factors = np.stack([f for f, _ in pairs])
        confidence = self.params.alpha * np.fromiter(
            (w for _, w in pairs), dtype=np.float32, count=len(pairs)
        )
        gram = self._item_gram + (factors.T * (confidence - 1.0)) @ factors
        b = factors.T @ confidence
        refused = [f for f in (self.factor(r) for r in negatives) if f is not None]
        if refused:
            negative = np.stack(refused)
            gram = gram + (self.params.alpha - 1.0) * (negative.T @ negative)
        return np.asarray(np.linalg.solve(gram, b), dtype=np.float32)

    def member_scores(
        self, rows: Sequence[int], weights: Sequence[float], negatives: Iterable[int], n_total: int
    ) -> np.ndarray:
        scores = np.full(max(n_total, self.n_items), np.nan, dtype=np.float32)
        vector = self.member_vector(rows, weights, negatives)
        if vector is None:
            return scores[:n_total]
        scores[: self.n_items] = self.item_factors @ vector
        if len(self._folded_rows):
            inside = self._folded_rows < len(scores)
            scores[self._folded_rows[inside]] = self._folded_factors[inside] @ vector
        return scores[:n_total]

    def similar_items(self, row: int) -> np.ndarray | None:
        factor = self.factor(row)
        if factor is None:
            return None
        unit = factor / max(float(np.linalg.norm(factor)), 1e-9)
        return np.asarray(self._unit @ unit)


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
        matrix, _ = engagement_matrix(interactions, n_items)
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
        self, rows: Sequence[int], weights: Sequence[float], negatives: Iterable[int], n_total: int
    ) -> np.ndarray:
        scores = np.full(max(n_total, self.n_items), np.nan, dtype=np.float32)
        picked = [r for r in rows if r < self.n_items]
        if picked:
            scores[: self.n_items] = self.weights[np.asarray(picked)].sum(axis=0)
        return scores[:n_total]

    def similar_items(self, row: int) -> np.ndarray | None:
        return None if row >= self.n_items else np.asarray(self.weights[row])
