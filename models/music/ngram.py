"""A baseline n-gram model on the same tokens: interpolated Witten–Bell smoothing."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence


class NGramModel:
    """Order-n token model; `nll` gives the mean negative log-likelihood per predicted token (nats)."""

    def __init__(self, order: int, vocab_size: int) -> None:
        self.order = order
        self.vocab_size = vocab_size
        self.counts: list[dict[tuple[int, ...], Counter[int]]] = [defaultdict(Counter) for _ in range(order)]
        self.unigram: Counter[int] = Counter()
        self.total = 0

    def fit(self, sequences: Iterable[Sequence[int]]) -> NGramModel:
        """Count every n-gram (contexts restart at each sequence start)."""
        for seq in sequences:
            for i in range(1, len(seq)):
                token = seq[i]
                self.unigram[token] += 1
                self.total += 1
                for n in range(1, self.order):
                    if i - n < 0:
                        break
                    self.counts[n][tuple(seq[i - n : i])][token] += 1
        return self

    def prob(self, context: Sequence[int], token: int) -> float:
        """P(token | context) interpolated from the unigram (add-one) up to the longest context."""
        p = (self.unigram[token] + 1) / (self.total + self.vocab_size)
        for n in range(1, self.order):
            if len(context) < n:
                break
            followers = self.counts[n].get(tuple(context[-n:]))
            if not followers:
                break
            seen = sum(followers.values())
            types = len(followers)
            p = (followers[token] + types * p) / (seen + types)
        return p

    def nll(self, sequences: Iterable[Sequence[int]]) -> float:
        """Mean −log P per predicted token (every token after the first of each sequence)."""
        total, count = 0.0, 0
        for seq in sequences:
            for i in range(1, len(seq)):
                total -= math.log(self.prob(seq[max(0, i - self.order + 1) : i], seq[i]))
                count += 1
        return total / max(count, 1)
