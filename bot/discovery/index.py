"""The approximate-nearest-neighbour index of one server's item embeddings (faiss HNSW).

Items are added one by one as their embeddings arrive (HNSW needs no retraining); vectors are kept
as 8-bit scalars (384 bytes an item for MiniLM) and read back from the index for reranking, so the
bot holds one copy of them. Age-restricted items live in an index of their own, searched only for a
feed asked for in an age-restricted channel. Removed items stay in the graph (HNSW cannot drop
nodes) and are filtered out by the ranker's eligibility mask; the index is rebuilt once a fifth of
it is removed.
"""

from __future__ import annotations

import threading

import numpy as np

DIM = 384
_RANGE = 0.5
"""Unit vectors' components lie well inside ±0.5 (MiniLM's rarely pass ±0.3): the 8-bit range."""


def _faiss():  # type: ignore[no-untyped-def]
    import faiss

    faiss.omp_set_num_threads(1)  # one query at a time on the event loop; threads only contend
    return faiss


class AnnIndex:
    """Unit vectors by catalogue row, in two HNSW graphs (ordinary, age-restricted)."""

    def __init__(self, dim: int = DIM, m: int = 16, ef_search: int = 96, ef_construction: int = 40) -> None:
        self.dim = dim
        self.m = m
        self.ef_search = ef_search
        self.ef_construction = ef_construction
        self._lock = threading.Lock()
        self._indexes = [self._new(), self._new()]
        self._where = np.full(1024, -1, dtype=np.int8)
        """Per row: -1 no vector, 0 the ordinary index, 1 the age-restricted one."""
        self.count = 0
        self.removed = 0

    def _new(self):  # type: ignore[no-untyped-def]
        faiss = _faiss()
        base = faiss.IndexHNSWSQ(
            self.dim, faiss.ScalarQuantizer.QT_8bit_uniform, self.m, faiss.METRIC_INNER_PRODUCT
        )
        base.train(np.array([[-_RANGE] * self.dim, [_RANGE] * self.dim], dtype=np.float32))
        base.hnsw.efConstruction = self.ef_construction
        base.hnsw.efSearch = self.ef_search
        return faiss.IndexIDMap2(base)

    def has(self, row: int) -> bool:
        return row < len(self._where) and self._where[row] >= 0

    def add(self, rows: np.ndarray, vectors: np.ndarray, nsfw: np.ndarray) -> int:
        """Add vectors for rows that have none yet; how many were added."""
        rows = np.asarray(rows, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        nsfw = np.asarray(nsfw, dtype=bool)
        with self._lock:
            if len(rows) and int(rows.max()) >= len(self._where):
                grown = np.full(max(int(rows.max()) + 1, 2 * len(self._where)), -1, dtype=np.int8)
                grown[: len(self._where)] = self._where
                self._where = grown
            new = self._where[rows] < 0 if len(rows) else np.zeros(0, dtype=bool)
            _, first = np.unique(rows, return_index=True)
            unique = np.zeros(len(rows), dtype=bool)
            unique[first] = True
            new &= unique
            for flag in (0, 1):
                pick = new & (nsfw == bool(flag))
                if pick.any():
                    self._indexes[flag].add_with_ids(vectors[pick], rows[pick])
                    self._where[rows[pick]] = flag
            added = int(new.sum())
            self.count += added
            return added

    def remove(self, row: int) -> None:
        """Count a removal (the ranker never shows removed rows; see the module doc)."""
        if self.has(row):
            self.removed += 1

    @property
    def needs_rebuild(self) -> bool:
        return self.count > 1000 and self.removed > self.count // 5

    def vectors(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), self.dim), dtype=np.float32)
        inside = rows < len(self._where)
        where = np.full(len(rows), -1, dtype=np.int8)
        where[inside] = self._where[rows[inside]]
        for flag in (0, 1):
            pick = where == flag
            if pick.any():
                out[pick] = self._indexes[flag].reconstruct_batch(rows[pick])
        return out, where >= 0

    def nearest(self, query: np.ndarray, k: int, nsfw: bool) -> np.ndarray:
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        found: list[tuple[float, int]] = []
        for flag in (0, 1) if nsfw else (0,):
            index = self._indexes[flag]
            if index.ntotal == 0:
                continue
            scores, ids = index.search(query, min(k, int(index.ntotal)))
            found += [(float(s), int(i)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]
        found.sort(reverse=True)
        return np.asarray([i for _, i in found[:k]], dtype=np.int64)

    def memory_bytes(self) -> int:
        """Roughly what the graphs and codes take: codes, links, ids."""
        return int(self.count * (self.dim + self.m * 2 * 4 * 1.1 + 16) + self._where.nbytes)
