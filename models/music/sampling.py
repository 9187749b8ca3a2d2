"""Sampling a piece token by token: temperature, top-p, a seeded generator and the bar grammar."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from models.music.form import resolve
from models.music.form_decode import FormDirector
from models.music.grammar import CHORALE_MAX_GAPS, CHORALE_RANGES, BarGrammar, grid_masks
from models.music.harmony import SCALES
from models.music.metrics import outer_voices_end_on_tonic
from models.music.model import LeanGPT2
from models.music.tokenizer import decode, prefix_ids
from models.music.vocab import Vocab, bar_steps

# Four-voice pieces: logit penalty (nats) on a note that starts in unison with the voice above. Chosen on
# the validation chorales (0, 1, 2, 3 tried): without it the voices double each other 10–30% of the time
# (polyphony 3.6 where Bach has 3.9); see the model card.
CHORALE_UNISON_PENALTY = 2.0

# Top-p cuts the pitch only: each event's duration comes from the model's whole distribution over
# durations, then the nucleus applies to the pitch given it. Cutting the rhythm's tail too made every
# style's bars more alike than the real pieces' (groove consistency); see the model card.
RHYTHM_FROM_FULL_DISTRIBUTION = True

# The last bar is drawn as an ending. The decoder writes this many candidate final bars and keeps one with
# probability proportional to the model's probability of the end token after it: sampling-importance-
# resampling of the model's own distribution over final bars, given that the piece ends there. Without it
# the model never knows which bar is the last and pieces stop mid-phrase: on training controls, 20% of
# reels and 23% of jigs ended on the tonic (training pieces 62% and 90%); with 8 candidates 50% and 47%,
# with 16, 57% and 55% (see the model card).
ENDING_CANDIDATES = 16

# A tune in form draws its pitches with the nucleus at (at least) this top-p: restating its parts leaves
# fewer bars of its own, and with the default nucleus those bars had less pitch variety than the real
# tunes' (reel pitch-class entropy 2.48 against 2.62; see the model card).
FORM_TOP_P = 0.99

# Four-voice pieces: a note that would make parallel fifths or octaves with a voice above it (both moving
# the same way into the same perfect interval) is not drawn, unless nothing else is left. Without it,
# generated chorales had about 7 per 100 two-voice moves, Bach's 0.1 (see the model card).
CHORALE_NO_PARALLELS = True


@dataclass(frozen=True)
class StyleDecoding:
    """How one style is decoded, on top of the request's temperature and top-p (see the model card).

    - `grids`: per meter, the onset grid of the style's training pieces (positions within the bar where
      at least 0.5% of some voice's events start; `python -m models.music.calibrate` derives them): a note or
      rest may only end on the grid or at the bar line. Without it, dance tunes drift off their rhythm
      (a stray one-step note shifts every following onset of the bar).
    - `in_scale`: notes only from the mode's scale (rests always allowed), for styles whose training
      pieces have fewer than 1 out-of-scale note in 100 (calibrate).
    - `accidentals`: logit offset (nats) on notes outside the mode's scale.
    - `max_span`: a one-voice piece never spans more semitones than the widest of the style's training
      pieces (calibrate): once a melody has drifted an octave, nothing in the model pulls it back.
    - `cadence`: the last bar is drawn (ENDING_CANDIDATES) among the candidates whose top and lowest
      voices end on the tonic (metrics.outer_voices_end_on_tonic), when any does. For chorales: the
      model's end-token probability says little about a chorale's cadence; its soprano ended on the
      tonic in about a third of the pieces, where 84% of the training chorales close with soprano and
      bass on the tonic.
    - `long_notes`: logit offset (nats) on notes lasting a half note or more (LONG_NOTE steps). Reading
      real chorales (validation), the model gives long notes their real share, but in chorales it writes
      itself it holds a note for two beats or more less often than Bach (0.89 long notes per bar against
      1.27 in the training chorales), and its bars are more alike than his (groove consistency).
    """

    grids: dict[str, tuple[int, ...]] = field(default_factory=dict)
    in_scale: bool = False
    accidentals: float = 0.0
    max_span: int | None = None
    long_notes: float = 0.0
    cadence: bool = False


LONG_NOTE = 24  # steps: a half note

# Onset grids, `in_scale` and `max_span` from the training split (calibrate: grids for every style but
# jig and strathspey, in meters with at least 50 training pieces); `accidentals` chosen on the validation
# split (the smallest offset that meets every validation hornpipe cell); `long_notes` on the training split
# (the offset, in steps of 0.05, whose chorales generated with the training chorales' controls have their
# long notes per bar: `calibrate --long-notes`). The model card gives the figures behind each entry.
_SIXTEENTHS_4_4 = tuple(range(0, 48, 3))
STYLE_DECODING: dict[str, StyleDecoding] = {
    "reel": StyleDecoding(
        max_span=37,
        grids={
            "2/4": (0, 2, 3, 6, 9, 12, 15, 18, 20, 21),
            "4/4": (0, 3, 4, 6, 8, 9, 12, 16, 18, 20, 21, 24, 30, 33, 36, 42, 45),
        },
    ),
    "jig": StyleDecoding(max_span=29),
    "slip jig": StyleDecoding(grids={"9/8": (0, 3, 6, 9, 12, 15, 18, 24, 30, 36, 42, 48, 51)}, max_span=24),
    "hornpipe": StyleDecoding(
        grids={
            "2/4": (0, 3, 4, 6, 9, 10, 12, 15, 16, 18, 20, 21, 22),
            "4/4": tuple(sorted(set(_SIXTEENTHS_4_4) | set(range(0, 48, 4)))),
        },
        accidentals=0.25,
        max_span=32,
    ),
    "strathspey": StyleDecoding(in_scale=True, max_span=28),
    "waltz": StyleDecoding(in_scale=True, max_span=21),
    "air": StyleDecoding(
        grids={
            "3/4": (0, 2, 3, 6, 9, 12, 15, 18, 21, 24, 26, 27, 30, 32, 33),
            "4/4": (*_SIXTEENTHS_4_4[:15], 44, 45),
        },
        max_span=28,
    ),
    "chorale": StyleDecoding(
        grids={"4/4": (0, 6, 9, 12, 18, 21, 24, 30, 36, 42, 45)}, long_notes=0.25, cadence=True
    ),
    "folk song": StyleDecoding(
        grids={
            "2/4": tuple(range(0, 24, 3)),
            "3/2": (0, 12, 18, 24, 36, 42, 48, 60, 66),
            "3/4": (0, 6, 9, 12, 18, 21, 24, 30, 33),
            "3/8": tuple(range(0, 18, 3)),
            "4/4": (0, 6, 9, 12, 18, 21, 24, 30, 33, 36, 42, 45),
            "6/4": (0, 12, 18, 24, 30, 36, 42, 48, 54, 60, 66),
            "6/8": (0, 6, 9, 12, 15, 18, 24, 27, 30, 33),
        },
        max_span=26,
    ),
}


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 1.0
    top_p: float = 0.97
    seed: int = 0


@dataclass
class Sampled:
    """A sampled sequence (prefix and any prime included) and what it took."""

    ids: list[int]
    new_tokens: int
    seconds: float
    upbeat: int = 0  # steps of the pickup (0: the piece starts on a full bar)
    parts: list[tuple[int, str]] = field(default_factory=list)  # (token bar from 0, label) of each part

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0


def duration_groups(vocab: Vocab) -> torch.Tensor:
    """Per id: 0 for non-events (bar lines, voices, end), else 1 + the index of its duration."""
    durations = sorted({d for d in vocab.duration if d})
    return torch.tensor([durations.index(d) + 1 if d else 0 for d in vocab.duration])


def pick(
    logits: torch.Tensor,
    allowed: torch.Tensor,
    params: SamplingParams,
    gen: torch.Generator,
    groups: torch.Tensor | None = None,
) -> int:
    """Sample one id from `logits` restricted to `allowed`, with temperature and nucleus (top-p).

    With `groups` (duration_groups), the duration is drawn first from the model's whole distribution
    and the nucleus applies to the pitch given that duration (see RHYTHM_FROM_FULL_DISTRIBUTION).
    """
    scores = logits.masked_fill(~allowed, float("-inf")) / params.temperature
    probs = scores.softmax(-1)
    if groups is not None and params.top_p < 1.0:
        group_probs = torch.zeros(int(groups.max()) + 1).index_add_(0, groups, probs)
        chosen = int(torch.multinomial(group_probs, 1, generator=gen))
        probs = probs * (groups == chosen)
        probs = probs / probs.sum()
    if params.top_p < 1.0:
        sorted_probs, order = probs.sort(descending=True)
        keep = sorted_probs.cumsum(-1) - sorted_probs < params.top_p
        keep[0] = True
        sorted_probs = sorted_probs * keep
        choice = int(torch.multinomial(sorted_probs, 1, generator=gen))
        return int(order[choice])
    return int(torch.multinomial(probs, 1, generator=gen))


def scale_mask(vocab: Vocab, mode: str) -> torch.Tensor:
    """Ids allowed under `in_scale`: rests, and notes whose pitch class is in the mode's scale (tonic C)."""
    scale = set(SCALES[mode])
    return torch.tensor([p == -1 or (p >= 0 and p % 12 in scale) for p in vocab.pitch])


def span_mask(pitch: torch.Tensor, melody: list[int], max_span: int) -> torch.Tensor | None:
    """Ids (by `pitch`, the vocabulary's pitch per id) that keep a melody within `max_span` semitones;
    rests and non-notes always. None when nothing constrains yet (no note so far) or the melody is
    already wider (an uploaded one)."""
    if not melody:
        return None
    low, high = min(melody), max(melody)
    if high - low > max_span:
        return None
    return (pitch < 0) | ((pitch >= high - max_span) & (pitch <= low + max_span))


def ending_weights(log_weights: list[float], cadences: list[bool]) -> torch.Tensor:
    """Resampling weights of the candidate last bars: in proportion to the model's end-token probability,
    among those that end on a cadence when any does."""
    scores = torch.tensor(log_weights)
    if any(cadences):
        scores = scores.masked_fill(~torch.tensor(cadences), float("-inf"))
    return scores.softmax(-1)


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
    decoding: StyleDecoding | None = None,
    rhythm_from_full_distribution: bool = RHYTHM_FROM_FULL_DISTRIBUTION,
    ending_candidates: int = ENDING_CANDIDATES,
    max_gaps: tuple[int, ...] | None = CHORALE_MAX_GAPS,
    form: str = "auto",
    shaped: bool = True,
    no_parallels: bool = CHORALE_NO_PARALLELS,
) -> Sampled:
    """Generate `bars` new bars after the control prefix (and an optional primed body of whole bars).

    `prime` is a token body (bars only, no prefix) of `prime_bars` bars. `on_bar(done, total)` is
    called at each new bar line (for progress and cancel checks). `decoding`: the style's entry of
    STYLE_DECODING unless given (the product and the evaluation use the table).

    Without a prime and with `shaped` (the product), the piece is decoded in `form` (`auto`: the
    style's, see `form.STYLE_FORMS`), opens with at most the style's upbeat, and its parts end on the
    tonic at the style's rate (`form_decode.FormDirector`); `bars` then counts the full bars after the
    upbeat (a pickup is one token bar more). `shaped=False` decodes as before issue 22 (comparisons).
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
        max_gaps=max_gaps if n_voices > 1 else None,
    )
    decoding = decoding if decoding is not None else STYLE_DECODING.get(style, StyleDecoding())
    in_scale = scale_mask(vocab, mode) if decoding.in_scale else None
    pitch_of = torch.tensor(vocab.pitch)
    is_note = pitch_of >= 0
    bias = torch.zeros(len(vocab))  # logit offsets of the style: accidentals, long notes
    if decoding.accidentals:
        bias += decoding.accidentals * (is_note & ~scale_mask(vocab, mode)).float()
    if decoding.long_notes:
        bias += decoding.long_notes * (is_note & (torch.tensor(vocab.duration) >= LONG_NOTE)).float()
    offsets = bias if bool(bias.any()) else None
    groups = duration_groups(vocab) if rhythm_from_full_distribution else None
    grid = decoding.grids.get(meter)
    on_grid = grid_masks(vocab, bar_steps(meter), grid) if grid else None
    ids = prefix_ids(vocab, style, mode, meter) + list(prime or [])
    for token in ids[4:]:
        grammar.update(token)
    director = (
        FormDirector(
            vocab,
            style=style,
            mode=mode,
            meter=meter,
            bar_len=bar_steps(meter),
            bars=bars,
            form=resolve(form, style, bars, meter) if n_voices == 1 else "none",
            gen=gen,
        )
        if shaped and not prime
        else None
    )
    if director is not None and director.plan is not None:
        ending_candidates = 1  # the plan writes the last bar (a restated cadence)
        params = dataclasses.replace(params, top_p=max(params.top_p, FORM_TOP_P))
    parallels = no_parallels and n_voices > 1
    span = decoding.max_span if n_voices == 1 else None
    melody = [vocab.pitch[token] for token in ids[4:] if vocab.pitch[token] >= 0]
    window_limit = lean.max_len // 2

    def choose(logits: torch.Tensor, grammar: BarGrammar) -> int:
        """The next token: the grammar's forced one, or a draw under every constraint of the style."""
        forced = grammar.forced()
        if forced is not None:
            return forced
        if unison_penalty and (unisons := grammar.unisons()) is not None:
            logits = logits - unison_penalty * unisons
        if offsets is not None:
            logits = logits + offsets
        allowed = grammar.allowed()
        if in_scale is not None and bool((allowed & in_scale).any()):
            allowed = allowed & in_scale
        if on_grid is not None:
            kept = allowed & on_grid[grammar.bar_len - grammar.remaining]
            allowed = kept if bool(kept.any()) else allowed
        if span is not None and (within := span_mask(pitch_of, melody, span)) is not None:
            allowed = allowed & within
        if director is not None and (shaped_mask := director.mask(grammar)) is not None:
            kept = allowed & shaped_mask
            allowed = kept if bool(kept.any()) else allowed
        if parallels and (forbidden := grammar.parallels()) is not None:
            kept = allowed & ~forbidden
            allowed = kept if bool(kept.any()) else allowed
        return pick(logits, allowed, params, gen, groups)

    reprimes = 0  # how often the context filled up and the model was re-primed with a window

    def reprime() -> torch.Tensor:
        """Restart the cache on the latest bar-aligned window of `ids`; the logits after it."""
        lean.reset()
        return lean.forward(_window(ids, vocab, window_limit))

    def append(token: int) -> torch.Tensor:
        """Add `token` to the piece; the model's logits after it (re-primed when the context is full)."""
        return extend([token])

    def extend(tokens: list[int]) -> torch.Tensor:
        """Add `tokens` to the piece in one forward pass (re-primed when they overflow the context)."""
        nonlocal reprimes
        ids.extend(tokens)
        melody.extend(vocab.pitch[token] for token in tokens if vocab.pitch[token] >= 0)
        if lean.length + len(tokens) > lean.max_len:
            reprimes += 1
            return reprime()
        return lean.forward(tokens)

    def last_bar(logits: torch.Tensor) -> tuple[BarGrammar, torch.Tensor, int]:
        """Draw the final bar as an ending (see ENDING_CANDIDATES) and add it to `ids`.

        Returns the grammar and the model's logits after the bar, and the number of tokens kept.
        """
        room = n_voices * (grammar.bar_len + 1) + 2  # the most tokens a bar (and the end) can take
        if lean.length + room > lean.max_len:
            logits = reprime()
        start, start_melody = len(ids), len(melody)
        state, seen = lean.checkpoint(), reprimes

        def back_to_start() -> torch.Tensor:
            """Undo a candidate: the cache before `start` is intact unless a re-prime overwrote it."""
            nonlocal state, seen, logits
            del ids[start:], melody[start_melody:]
            if director is not None:
                director.forget(grammar.bars_started)
            if reprimes == seen:
                lean.rewind(state)
                return logits
            logits = reprime()  # only with a context shorter than a bar and a window (tiny models)
            state, seen = lean.checkpoint(), reprimes
            return logits

        tries: list[tuple[list[int], float, bool]] = []
        for _ in range(ending_candidates):
            trial, current = grammar.copy(), back_to_start()
            while (token := choose(current, trial)) != vocab.eos:
                if director is not None:
                    director.observe(token, trial)
                trial.update(token)
                current = append(token)
            voices = decode(ids, vocab).voices
            # the soprano's last note is the director's (tonic or not, at Bach's rate); the bass on the tonic
            closes = director is None or director.tonic
            cadence = decoding.cadence and (
                outer_voices_end_on_tonic(voices) if closes else outer_voices_end_on_tonic(voices[-1:])
            )
            tries.append((ids[start:], float(current.log_softmax(-1)[vocab.eos]), cadence))
        weights = ending_weights([weight for _, weight, _ in tries], [cadence for *_, cadence in tries])
        chosen = tries[int(torch.multinomial(weights, 1, generator=gen))][0]
        after, final = back_to_start(), grammar.copy()
        for token in chosen:
            if director is not None:
                director.observe(token, final)
            final.update(token)
            after = append(token)
        return final, after, len(chosen)

    lean.reset()
    logits = lean.forward(_window(ids, vocab, lean.max_len - 1))
    produced = 0
    while True:
        if ending_candidates > 1 and ids[-1] == vocab.bar and grammar.bars_started == grammar.total_bars:
            grammar, logits, kept = last_bar(logits)
            produced += kept
        if director is not None and (given := director.pending(grammar)):
            for token in given:
                director.observe(token, grammar)
                grammar.update(token)
            director.settle(grammar)
            logits = extend(given)
            continue
        token = choose(logits, grammar)
        if director is not None:
            director.observe(token, grammar)
        grammar.update(token)
        if director is not None:
            director.settle(grammar)
        produced += 1
        if token == vocab.eos:
            ids.append(token)
            break
        if token == vocab.bar and on_bar is not None:
            on_bar(grammar.bars_started - prime_bars - 1, grammar.total_bars - prime_bars)
        logits = append(token)
    upbeat = director.upbeat if director is not None else 0
    parts = director.part_starts() if director is not None else []
    return Sampled(ids, produced, time.perf_counter() - started, upbeat, parts)
