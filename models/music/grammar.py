"""Grammar-constrained decoding: every bar of every voice has exactly the meter's length.

The grammar tracks where the decoder is (which bar, which voice, how much of the bar is left) and gives
the set of tokens allowed next: note/rest tokens that fit in what is left of the bar; when the bar is
full, the next voice marker, the next bar line, or the end once the requested bars are done.
"""

from __future__ import annotations

import copy

import torch

from models.music.vocab import Vocab

# Per-voice pitch ranges of four-part pieces in the model's frame (tonic C): the 0.5th–99.5th percentile
# of each voice over the training chorales (soprano, alto, tenor, bass).
CHORALE_RANGES = ((60, 82), (55, 76), (48, 71), (36, 64))

# Four-part spacing: the most semitones each lower voice sits below the voice above it (alto under
# soprano, tenor under alto, bass under tenor), the 99th percentile of those gaps over every step of the
# training chorales (`python -m models.music.calibrate`): the textbook octave for the upper pairs, a
# twelfth between tenor and bass.
CHORALE_MAX_GAPS = (12, 12, 19)


class BarGrammar:
    """State machine over token ids; `allowed()` is a boolean mask, `forced()` a single id or None.

    With `pitch_ranges`, notes of voice i are also limited to pitch_ranges[i] (rests always allowed).
    With `follow_rests` (four-voice pieces), the lower voices rest exactly where the first voice rests:
    in the training chorales 98% of the lower voices' rest time falls on a soprano rest (pickups and
    phrase breaks rest in all voices at once), while a free sampler lets single voices drop out.
    With `no_crossing` (four-voice pieces), a note of voice i may not rise above what voice i−1 sounds
    during it (unisons allowed): the voices are written one bar at a time, one after the other, and the
    model alone lets them cross in a quarter to a half of the time, against a few percent in Bach.
    With `max_gaps` as well (with `no_crossing`), a note of voice i may not sit more than max_gaps[i−1]
    semitones below what voice i−1 sounds during it: without it the lower voices drift low, since a
    note may go anywhere down but not up past the voice above.
    """

    def __init__(
        self,
        vocab: Vocab,
        bar_len: int,
        n_voices: int,
        total_bars: int,
        pitch_ranges: tuple[tuple[int, int], ...] | None = None,
        follow_rests: bool = False,
        no_crossing: bool = False,
        max_gaps: tuple[int, ...] | None = None,
    ) -> None:
        self.vocab = vocab
        self.bar_len = bar_len
        self.n_voices = n_voices
        self.total_bars = total_bars
        self.bars_started = 0
        self.voice = -1  # -1: before the first bar line
        self.remaining = 0
        size = len(vocab)
        durations = torch.tensor(vocab.duration)
        # fits[r]: event tokens whose duration is at most r
        self._fits = [(durations > 0) & (durations <= r) for r in range(bar_len + 1)]
        self._single = torch.zeros(size, dtype=torch.bool)
        pitches = torch.tensor(vocab.pitch)
        self.follow_rests = follow_rests and n_voices > 1
        self._lead_rest = [False] * bar_len  # per step of the current bar: does the first voice rest?
        self._fits_rest = [f & (pitches == -1) for f in self._fits]
        self._fits_note = [f & (pitches >= 0) for f in self._fits]
        self.no_crossing = no_crossing and n_voices > 1
        # per voice, per step of the current bar: the pitch sounding (-1 rest, None not written yet)
        self._grid: list[list[int | None]] = [[None] * bar_len for _ in range(n_voices)]
        self._previous: list[int | None] = [None] * n_voices  # each voice's last step of the bar before
        self._pitches = pitches
        self._duration_is = {d: durations == d for d in set(vocab.duration) if d > 0}
        self._pitch_at_most = [(pitches >= 0) & (pitches <= p) for p in range(128)]
        self.max_gaps = max_gaps if self.no_crossing else None
        self._ranges = [
            (pitches == -1) | ((pitches >= lo) & (pitches <= hi)) for lo, hi in (pitch_ranges or ())
        ]

    def copy(self) -> BarGrammar:
        """An independent twin at the same state (to try a bar and come back)."""
        twin = copy.copy(self)
        twin._lead_rest = list(self._lead_rest)
        twin._grid = [list(voice) for voice in self._grid]
        return twin

    @property
    def done(self) -> bool:
        return (
            self.bars_started >= self.total_bars and self.remaining == 0 and self.voice == self.n_voices - 1
        )

    def forced(self) -> int | None:
        """The only token allowed next, if there is just one."""
        if self.voice == -1:
            return self.vocab.bar
        if self.remaining == 0:
            if self.n_voices > 1 and self.voice < self.n_voices - 1 and self._voice_marked:
                return self.vocab.voice_ids[self.voice + 1]
            if self.n_voices > 1 and not self._voice_marked:
                return self.vocab.voice_ids[0]
            return self.vocab.eos if self.bars_started >= self.total_bars else self.vocab.bar
        return None

    def allowed(self) -> torch.Tensor:
        """Boolean mask over the vocabulary of the tokens allowed next."""
        token = self.forced()
        if token is not None:
            mask = self._single.clone()
            mask[token] = True
            return mask
        fits = self._fits[self.remaining]
        if self.follow_rests and self.voice > 0:
            position = self.bar_len - self.remaining
            resting = self._lead_rest[position]
            run = 1
            while position + run < self.bar_len and self._lead_rest[position + run] == resting:
                run += 1
            fits = (self._fits_rest if resting else self._fits_note)[run]
            if self.no_crossing and not resting:
                fits = fits & self._below_upper_voice(position, run)
        if self._ranges:
            return fits & self._ranges[self.voice]
        return fits

    def _below_upper_voice(self, position: int, run: int) -> torch.Tensor:
        """Notes of each duration up to `run` whose pitch stays at or below the voice above meanwhile
        (and, with `max_gaps`, no further below it than the gap)."""
        upper = self._grid[self.voice - 1]
        gap = self.max_gaps[self.voice - 1] if self.max_gaps else None
        mask = torch.zeros(len(self.vocab), dtype=torch.bool)
        for duration, is_duration in self._duration_is.items():
            if duration > run:
                continue
            sounding = [p for p in upper[position : position + duration] if p is not None and p >= 0]
            limit = min(sounding) if sounding else 127
            allowed = is_duration & self._pitch_at_most[limit]
            if gap is not None and sounding and max(sounding) - gap > 0:
                allowed = allowed & ~self._pitch_at_most[max(sounding) - gap - 1]
            mask |= allowed
        return mask

    def unisons(self) -> torch.Tensor | None:
        """Notes that would start on the pitch the voice above sounds now (four-voice pieces), or None."""
        if not self.no_crossing or self.voice <= 0 or self.remaining == 0:
            return None
        pitch = self._grid[self.voice - 1][self.bar_len - self.remaining]
        if pitch is None or pitch < 0:
            return None
        return self._pitch_at_most[pitch] & ~self._pitch_at_most[pitch - 1]

    def parallels(self) -> torch.Tensor | None:
        """Notes that would start parallel fifths or octaves with a voice above (four-voice pieces): both
        voices move the same way from a perfect fifth or octave (compound too) into the same one. None
        when nothing is forbidden."""
        if not self.no_crossing or self.voice <= 0 or self.remaining == 0:
            return None
        position = self.bar_len - self.remaining

        def before(voice: int) -> int | None:
            return self._grid[voice][position - 1] if position else self._previous[voice]

        lower = before(self.voice)
        if lower is None or lower < 0:
            return None
        forbidden: torch.Tensor | None = None
        for upper in range(self.voice):
            was, now = before(upper), self._grid[upper][position]
            if was is None or now is None or was < 0 or now < 0 or was == now:
                continue
            interval = (was - lower) % 12
            if interval not in (0, 7):
                continue
            same_way = torch.sign(self._pitches - lower) == (1 if now > was else -1)
            bad = (self._pitches >= 0) & ((now - self._pitches) % 12 == interval) & same_way
            forbidden = bad if forbidden is None else forbidden | bad
        return forbidden

    def update(self, token: int) -> None:
        """Advance over `token` (which must be allowed)."""
        vocab = self.vocab
        if token == vocab.bar:
            if self.no_crossing:
                self._previous = [voice[-1] for voice in self._grid]
            self.bars_started += 1
            self.voice = 0
            self._voice_marked = self.n_voices == 1
            self.remaining = self.bar_len if self.n_voices == 1 else 0
        elif token in vocab.voice_ids:
            self.voice = vocab.voice_ids.index(token)
            self._voice_marked = True
            self.remaining = self.bar_len
        elif vocab.duration[token]:
            if vocab.duration[token] > self.remaining:
                raise ValueError("event overflows the bar")
            position = self.bar_len - self.remaining
            if self.voice == 0 and self.follow_rests:
                for step in range(position, position + vocab.duration[token]):
                    self._lead_rest[step] = vocab.pitch[token] == -1
            if self.no_crossing:
                self._grid[self.voice][position : position + vocab.duration[token]] = [
                    vocab.pitch[token]
                ] * vocab.duration[token]
            self.remaining -= vocab.duration[token]
        elif token == vocab.eos:
            self.voice = self.n_voices - 1
            self.remaining = 0

    _voice_marked: bool = False


def grid_masks(vocab: Vocab, bar_len: int, grid: tuple[int, ...]) -> list[torch.Tensor]:
    """Per position within the bar, the events that end on the onset grid (or at the bar line).

    Only grid positions from which the bar line can still be reached through the grid count, so a
    voice that keeps to the masks always fills its bar. Ids without a duration are never in a mask.
    """
    durations = sorted({d for d in vocab.duration if d > 0})
    reachable = {bar_len}
    for position in range(bar_len - 1, -1, -1):
        if position in grid and any(position + d in reachable for d in durations):
            reachable.add(position)
    ends = torch.tensor(vocab.duration)
    events = ends > 0
    return [
        events & torch.isin(ends + position, torch.tensor(sorted(reachable))) for position in range(bar_len)
    ]


def bars_well_formed(ids: list[int], vocab: Vocab, bar_len: int) -> tuple[int, int]:
    """(bars whose every voice sums to `bar_len`, bars in all) of a token sequence."""
    good = total = 0
    sums: list[int] = []
    for token in [*ids, vocab.bar]:
        if token == vocab.bar or token == vocab.eos:
            if sums:
                total += 1
                good += all(s == bar_len for s in sums)
            sums = [] if token == vocab.bar else sums
            if token == vocab.eos:
                break
            sums = [0]
        elif token in vocab.voice_ids:
            if token != vocab.voice_ids[0]:
                sums.append(0)
        elif vocab.duration[token] and sums:
            sums[-1] += vocab.duration[token]
    return good, total
