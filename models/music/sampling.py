"""Sampling a piece token by token: temperature, top-p, a seeded generator and the bar grammar."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from models.music.grammar import CHORALE_RANGES, BarGrammar
from models.music.model import LeanGPT2
from models.music.tokenizer import prefix_ids
from models.music.vocab import Vocab, bar_steps

# Four-voice pieces: logit penalty (nats) on a note that starts in unison with the voice above. Chosen on
# the validation chorales (0, 1, 2, 3 tried): without it the voices double each other 10–30% of the time
# (polyphony 3.6 where Bach has 3.9); see the model card.
CHORALE_UNISON_PENALTY = 2.0


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 1.0
    top_p: float = 0.95
    seed: int = 0


@dataclass
class Sampled:
    """A sampled sequence (prefix and any prime included) and what it took."""

    ids: list[int]
    new_tokens: int
    seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0


def pick(logits: torch.Tensor, allowed: torch.Tensor, params: SamplingParams, gen: torch.Generator) -> int:
    """Sample one id from `logits` restricted to `allowed`, with temperature and nucleus (top-p)."""
    scores = logits.masked_fill(~allowed, float("-inf")) / params.temperature
    probs = scores.softmax(-1)
    if params.top_p < 1.0:
        sorted_probs, order = probs.sort(descending=True)
        keep = sorted_probs.cumsum(-1) - sorted_probs < params.top_p
        keep[0] = True
        sorted_probs = sorted_probs * keep
        choice = int(torch.multinomial(sorted_probs, 1, generator=gen))
        return int(order[choice])
    return int(torch.multinomial(probs, 1, generator=gen))


def _window(ids: list[int], vocab: Vocab, limit: int) -> list[int]:
    """Control prefix plus the latest bar-aligned stretch of `ids` that fits in `limit` tokens."""
    prefix, body = ids[:4], ids[4:]
    cut = max(0, len(body) - (limit - 4))
    while cut < len(body) and body[cut] != vocab.bar:
        cut += 1
    return prefix + body[cut:]


def sample(
    lean: LeanGPT2,
    vocab: Vocab,
    *,
    style: str,
    mode: str,
    meter: str,
    bars: int,
    params: SamplingParams,
    prime: list[int] | None = None,
    prime_bars: int = 0,
    on_bar: Callable[[int, int], None] | None = None,
    unison_penalty: float = CHORALE_UNISON_PENALTY,
) -> Sampled:
    """Generate `bars` new bars after the control prefix (and an optional primed body of whole bars).

    `prime` is a token body (bars only, no prefix) of `prime_bars` bars. `on_bar(done, total)` is
    called at each new bar line (for progress and cancel checks).
    """
    started = time.perf_counter()
    gen = torch.Generator().manual_seed(params.seed)
    n_voices = 4 if style == "chorale" else 1
    ranges = CHORALE_RANGES if n_voices == 4 else None
    grammar = BarGrammar(
        vocab,
        bar_steps(meter),
        n_voices,
        prime_bars + bars,
        ranges,
        follow_rests=n_voices > 1,
        no_crossing=n_voices > 1,
    )
    ids = prefix_ids(vocab, style, mode, meter) + list(prime or [])
    for token in ids[4:]:
        grammar.update(token)
    lean.reset()
    window_limit = lean.max_len // 2
    logits = lean.forward(_window(ids, vocab, lean.max_len - 1))
    produced = 0
    while True:
        forced = grammar.forced()
        if forced is None and unison_penalty and (unisons := grammar.unisons()) is not None:
            logits = logits - unison_penalty * unisons
        token = forced if forced is not None else pick(logits, grammar.allowed(), params, gen)
        grammar.update(token)
        ids.append(token)
        produced += 1
        if token == vocab.eos:
            break
        if token == vocab.bar and on_bar is not None:
            on_bar(grammar.bars_started - prime_bars - 1, bars)
        if lean.length >= lean.max_len:
            lean.reset()
            logits = lean.forward(_window(ids, vocab, window_limit))
        else:
            logits = lean.forward([token])
    return Sampled(ids, produced, time.perf_counter() - started)
