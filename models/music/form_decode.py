"""Decoding a piece in form: openings, planned restatements and cadences (see `form` for the plans).

`FormDirector` rides along `sampling.sample`: before each draw it may hand over tokens to write as they
are (a restated bar, an upbeat leading back into a part, the rest that ends the tune) or restrict the
draw (an opening no longer than the style's upbeats; a part's last note on a pitch class drawn from
those the style's training tunes end on, the tonic most often). The model still reads every token, restated ones included.
"""

from __future__ import annotations

import torch

from models.music.form import PlanBar, final_pitch_classes, opening_rests, part_starts, plan
from models.music.grammar import BarGrammar
from models.music.vocab import Vocab, split_duration


class FormDirector:
    """The form, opening and ending of one piece being decoded (one voice, or a chorale's soprano).

    `bars` are full bars after the upbeat; once the first bar shows a pickup (a leading rest), the
    grammar is told the piece has one bar more. `form` is "AABB", "AB" or "none" (openings and the
    final note only).
    """

    def __init__(
        self,
        vocab: Vocab,
        *,
        style: str,
        mode: str,
        meter: str,
        bar_len: int,
        bars: int,
        form: str,
        gen: torch.Generator,
    ) -> None:
        self.vocab = vocab
        self.bar_len = bar_len
        self.plan: list[PlanBar] | None = plan(form, bars, style) if form in ("AABB", "AB") else None
        self.openings = opening_rests(style, meter)
        finals = final_pitch_classes(style, mode)
        drawn = int(torch.multinomial(torch.tensor(list(finals.values())), 1, generator=gen))
        self.final = list(finals)[drawn]  # the pitch class the tune's last note is drawn on
        self.tonic = self.final == 0
        self.offset: int | None = None  # token bars before plan bar 0: 1 with a pickup bar, else 0
        self.upbeat = 0  # steps of the pickup
        self.events: dict[int, list[tuple[int, int]]] = {}  # token bar -> (position, token) of voice 0
        pitch = torch.tensor(vocab.pitch)
        self._duration = torch.tensor(vocab.duration)
        self._rest = pitch == -1
        self._note = pitch >= 0
        self._pitch_class = pitch % 12
        self._pitch = vocab.pitch

    # --- where the decoder is --------------------------------------------------------------------

    @staticmethod
    def _where(grammar: BarGrammar) -> tuple[int, int]:
        """(token bar, 1-based; position in the bar) of the next event."""
        return grammar.bars_started, grammar.bar_len - grammar.remaining

    def _plan_bar(self, bar: int) -> PlanBar | None:
        if self.plan is None or self.offset is None:
            return None
        index = bar - 1 - self.offset
        return self.plan[index] if 0 <= index < len(self.plan) else None

    def _cut(self, planned: PlanBar) -> int:
        """Where a bar's own music ends: before the upbeat that leads on from a part's end."""
        return self.bar_len - self.upbeat if planned.part_end and self.upbeat else self.bar_len

    def _events(self, bar: int, start: int, stop: int) -> list[int]:
        return [token for position, token in self.events.get(bar, []) if start <= position < stop]

    def _token_bar(self, plan_bar: int) -> int:
        return plan_bar + 1 + (self.offset or 0)

    # --- what the decoder does --------------------------------------------------------------------

    def observe(self, token: int, grammar: BarGrammar) -> None:
        """Record `token` (before the grammar takes it); settle the pickup when the first bar is full."""
        bar, position = self._where(grammar)
        if grammar.voice == 0 and self.vocab.duration[token] and grammar.remaining > 0:
            self.events.setdefault(bar, []).append((position, token))

    def forget(self, bar: int) -> None:
        """Drop what was recorded of `bar` (a drafted bar taken back)."""
        self.events.pop(bar, None)

    def settle(self, grammar: BarGrammar) -> None:
        """After the first bar: a leading rest makes it a pickup bar, one more than the bars asked for."""
        if self.offset is not None or grammar.bars_started != 1 or grammar.remaining:
            return
        if grammar.voice != grammar.n_voices - 1:
            return
        first = self.events.get(1, [])
        lead = next((p for p, t in first if self._pitch[t] >= 0), self.bar_len)
        self.offset = 1 if 0 < lead < self.bar_len else 0
        if self.offset:
            self.upbeat = self.bar_len - lead
            grammar.total_bars += 1

    def pending(self, grammar: BarGrammar) -> list[int] | None:
        """Tokens to write now as they are (a restatement, an upbeat, the closing rest), or None."""
        if grammar.voice != 0 or grammar.remaining == 0:
            return None
        bar, position = self._where(grammar)
        planned = self._plan_bar(bar)
        if planned is None:
            return None
        cut = self._cut(planned)
        if planned.source is not None and position == 0:
            return self._events(self._token_bar(planned.source), 0, cut)
        if cut < self.bar_len and position == cut:
            if planned.tail == "pickup":
                return self._events(1, cut, self.bar_len)
            if planned.tail == "copy" and planned.tail_source is not None:
                return self._events(self._token_bar(planned.tail_source), cut, self.bar_len)
            if planned.tail == "rest":
                return [self.vocab.event_id(None, d) for d in split_duration(self.bar_len - cut)]
        return None

    def mask(self, grammar: BarGrammar) -> torch.Tensor | None:
        """The ids the next draw is restricted to (None: no restriction of ours)."""
        if grammar.voice != 0 or grammar.remaining == 0:
            return None
        bar, position = self._where(grammar)
        if bar == 1 and not any(self._pitch[t] >= 0 for _, t in self.events.get(1, [])):
            room = max(self.openings) - position
            opening = self._rest & (self._duration <= room) & (self._duration > 0)
            return opening | self._note if position in self.openings else opening
        planned = self._plan_bar(bar)
        if planned is not None:
            cut = self._cut(planned)
            if position >= cut:
                return None  # a free upbeat
            fits = (self._duration > 0) & (self._duration <= cut - position)
            return self._cadence(bar, position, cut) & fits if planned.cadence else fits
        if self.plan is None and bar == grammar.total_bars and self.offset is not None:
            return self._cadence(bar, position, self.bar_len)
        return None

    def _cadence(self, bar: int, position: int, cut: int) -> torch.Tensor:
        """Events allowed at `position` so that the last note before `cut` has the drawn pitch class."""
        ends_here = self._duration == cut - position
        wanted = self._note & (self._pitch_class == self.final)
        notes = [t for p, t in self.events.get(bar, []) if p < position and self._pitch[t] >= 0]
        last_ok = bool(notes) and bool(wanted[notes[-1]])
        closing = wanted | (self._rest if last_ok else torch.zeros_like(wanted))
        return ~ends_here | closing

    def part_starts(self) -> list[tuple[int, str]]:
        """(token bar index from 0, label) where each part starts, once the piece is planned."""
        if self.plan is None:
            return []
        return [(bar + (self.offset or 0), label) for bar, label in part_starts(self.plan)]
