"""One server's items and members, in memory, as columns: what the ranker reads on every page.

Everything here is per server: a `Catalogue` never holds another server's items, and a
`Community` (a catalogue with its members) is what one server's feeds are ranked from. Rows are
positions in the columns, in the order items arrived; a removed item keeps its row (marked dead)
so row numbers stay stable for the indexes built on them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.discovery.signals import event_weight

MODALITY_CODES: dict[str, int] = {"music": 0, "image": 1, "text": 2}
"""Modalities as small integers in the columns; anything else (a community's own kinds) is 3."""
OTHER_MODALITY = 3


def modality_code(modality: str) -> int:
    return MODALITY_CODES.get(modality, OTHER_MODALITY)


class _Column:
    """A growable numpy column (amortised appends, views without copies)."""

    def __init__(self, dtype: Any, fill: Any = 0, capacity: int = 1024) -> None:
        self.fill = fill
        self.data = np.full(capacity, fill, dtype=dtype)

    def ensure(self, n: int) -> None:
        if n > len(self.data):
            grown = np.full(max(n, 2 * len(self.data)), self.fill, dtype=self.data.dtype)
            grown[: len(self.data)] = self.data
            self.data = grown


class Catalogue:
    """A server's items as columns: creator, modality, age-restricted flag, time, alive."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self._creator = _Column(np.int64)
        self._modality = _Column(np.int8)
        self._nsfw = _Column(np.bool_, False)
        self._time = _Column(np.float64)
        self._alive = _Column(np.bool_, False)
        self.creator_first: dict[int, float] = {}
        """When each creator's first item here appeared (new creators get an audience)."""
        self.creator_items: dict[int, int] = {}
        self.dead = 0
        self._new_cache: tuple[tuple[Any, ...], np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def creator(self) -> np.ndarray:
        return self._creator.data[: len(self.ids)]

    @property
    def modality(self) -> np.ndarray:
        return self._modality.data[: len(self.ids)]

    @property
    def nsfw(self) -> np.ndarray:
        return self._nsfw.data[: len(self.ids)]

    @property
    def time(self) -> np.ndarray:
        return self._time.data[: len(self.ids)]

    @property
    def alive(self) -> np.ndarray:
        return self._alive.data[: len(self.ids)]

    def add(self, item_id: str, creator: int, modality: str, nsfw: bool, time: float) -> int:
        """Add an item (again: its row, unchanged); returns its row."""
        if item_id in self.rows:
            return self.rows[item_id]
        row = len(self.ids)
        for column in (self._creator, self._modality, self._nsfw, self._time, self._alive):
            column.ensure(row + 1)
        self._creator.data[row] = creator
        self._modality.data[row] = modality_code(modality)
        self._nsfw.data[row] = nsfw
        self._time.data[row] = time
        self._alive.data[row] = True
        self.ids.append(item_id)
        self.rows[item_id] = row
        self.creator_first[creator] = min(self.creator_first.get(creator, time), time)
        self.creator_items[creator] = self.creator_items.get(creator, 0) + 1
        return row

    def remove(self, item_id: str) -> int | None:
        """Mark an item gone (it is never ranked again); its row, or None if unknown."""
        row = self.rows.get(item_id)
        if row is None or not self._alive.data[row]:
            return None
        self._alive.data[row] = False
        self.dead += 1
        creator = int(self._creator.data[row])
        self.creator_items[creator] = max(0, self.creator_items.get(creator, 1) - 1)
        return row

    def new_creator_mask(self, now: float, days: float, max_items: int) -> np.ndarray:
        """Rows whose creator is new here at `now`: their first item came within `days`, or they
        have made at most `max_items` items so far (cached for a minute of `now`)."""
        key = (len(self.ids), self.dead, int(now // 60), days, max_items)
        if self._new_cache is not None and self._new_cache[0] == key:
            return self._new_cache[1]
        n = len(self.ids)
        existing = self.alive & (self.time <= now)
        creators, counts = np.unique(self.creator[existing], return_counts=True)
        recent = np.fromiter(
            (now - self.creator_first.get(int(c), now) <= days * 86400 for c in creators),
            dtype=bool,
            count=len(creators),
        )
        new = creators[recent | (counts <= max_items)]
        mask = np.isin(self.creator, new) if len(new) else np.zeros(n, dtype=bool)
        self._new_cache = (key, mask)
        return mask


@dataclass
class Member:
    """One member's history on one server: items engaged with (first time, in order), their
    accumulated weight, and the items they said no to."""

    rows: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    position: dict[int, int] = field(default_factory=dict)
    negatives: set[int] = field(default_factory=set)
    signals: int = 0

    def engage(self, row: int, weight: float, time: float) -> bool:
        """Record a positive signal; True when it is the member's first on this item."""
        self.signals += 1
        at = self.position.get(row)
        if at is not None:
            self.weights[at] += weight
            return False
        self.position[row] = len(self.rows)
        self.rows.append(row)
        self.weights.append(weight)
        self.times.append(time)
        return True

    def refuse(self, row: int) -> None:
        self.signals += 1
        self.negatives.add(row)

    @property
    def has_history(self) -> bool:
        return bool(self.rows)


class Popularity:
    """How many members engaged with each item, each engagement fading with a half-life (counted
    against a reference time, so adding one is O(1) and ranking needs no rescoring)."""

    def __init__(self, half_life_s: float) -> None:
        self.half_life_s = half_life_s
        self.reference: float | None = None
        self._score = _Column(np.float64, 0.0)
        self._count = _Column(np.float64, 0.0)

    def ensure(self, n: int) -> None:
        self._score.ensure(n)
        self._count.ensure(n)

    def add(self, row: int, time: float) -> None:
        self.ensure(row + 1)
        if self.reference is None:
            self.reference = time
        exponent = (time - self.reference) / self.half_life_s
        if exponent > 500:  # rebase before the weights overflow
            self._score.data *= 2.0 ** (-exponent)
            self.reference, exponent = time, 0.0
        self._score.data[row] += 2.0**exponent
        self._count.data[row] += 1.0

    def decayed(self, n: int, now: float) -> np.ndarray:
        """Each row's faded count at `now`."""
        self.ensure(n)
        if self.reference is None:
            return np.zeros(n)
        factor = 2.0 ** ((self.reference - now) / self.half_life_s)
        return np.asarray(self._score.data[:n] * factor)

    def counts(self, n: int) -> np.ndarray:
        """Each row's all-time count of members who engaged."""
        self.ensure(n)
        return np.asarray(self._count.data[:n])


class Community:
    """A server's catalogue, its members' histories and its popularity: what its feeds rank from."""

    def __init__(self, guild_id: int, popularity_half_life_s: float = 14 * 86400) -> None:
        self.guild_id = guild_id
        self.catalogue = Catalogue()
        self.members: dict[int, Member] = {}
        self.popularity = Popularity(popularity_half_life_s)
        self.signals = 0
        self.sequence = 0
        """Counts positive engagements; a collaborative fit remembers the sequence it saw."""
        self.fresh: dict[int, dict[int, float]] = {}
        """Engagements since the last collaborative fit: row → member → weight (others' work only)."""
        self._fresh_seq: dict[tuple[int, int], int] = {}
        self.dirty: set[int] = set()
        """Rows in `fresh` the current model has not folded in yet."""

    def member(self, member_id: int) -> Member:
        found = self.members.get(member_id)
        if found is None:
            found = self.members[member_id] = Member()
        return found

    def add_item(self, item_id: str, creator: int, modality: str, nsfw: bool, time: float) -> int:
        row = self.catalogue.add(item_id, creator, modality, nsfw, time)
        self.popularity.ensure(row + 1)
        return row

    def record(self, member_id: int, item_id: str, event: str, time: float) -> bool:
        """Apply one signal; False when the item is unknown here (another server's, or gone)."""
        row = self.catalogue.rows.get(item_id)
        if row is None or not self.catalogue.alive[row]:
            return False
        weight = event_weight(event)
        member = self.member(member_id)
        self.signals += 1
        if weight < 0:
            member.refuse(row)
        elif weight > 0:
            first = member.engage(row, weight, time)
            if int(self.catalogue.creator[row]) != member_id:
                if first:
                    self.popularity.add(row, time)
                self.sequence += 1
                engagers = self.fresh.setdefault(row, {})
                engagers[member_id] = engagers.get(member_id, 0.0) + weight
                self._fresh_seq[(row, member_id)] = self.sequence
                self.dirty.add(row)
        return True

    def fitted(self, sequence: int) -> None:
        """A collaborative model fitted on engagements up to `sequence` is now in use: what it saw
        leaves `fresh`; what came after must be folded into it."""
        for (row, member_id), seen in list(self._fresh_seq.items()):
            if seen <= sequence:
                del self._fresh_seq[(row, member_id)]
                engagers = self.fresh.get(row)
                if engagers is not None:
                    engagers.pop(member_id, None)
                    if not engagers:
                        del self.fresh[row]
        self.dirty = set(self.fresh)

    def forget_member(self, member_id: int) -> None:
        """Drop a member's history (opt-out); their past engagement also leaves popularity."""
        member = self.members.pop(member_id, None)
        for row in list(self.fresh):
            if self.fresh[row].pop(member_id, None) is not None:
                self._fresh_seq.pop((row, member_id), None)
                self.dirty.add(row)
                if not self.fresh[row]:
                    del self.fresh[row]
        if member is None:
            return
        for row, time in zip(member.rows, member.times, strict=True):
            if int(self.catalogue.creator[row]) == member_id:
                continue  # own work never counted towards popularity
            self.popularity.ensure(row + 1)
            ref = self.popularity.reference or time
            self.popularity._score.data[row] = max(
                0.0, self.popularity._score.data[row] - 2.0 ** ((time - ref) / self.popularity.half_life_s)
            )
            self.popularity._count.data[row] = max(0.0, self.popularity._count.data[row] - 1.0)

    def remove_item(self, item_id: str) -> int | None:
        """An item deleted: never ranked again, and gone from every member's history."""
        row = self.catalogue.remove(item_id)
        if row is None:
            return None
        for member_id in self.fresh.pop(row, {}):
            self._fresh_seq.pop((row, member_id), None)
        self.dirty.discard(row)
        for member in self.members.values():
            at = member.position.pop(row, None)
            if at is not None:
                del member.rows[at], member.weights[at], member.times[at]
                member.position = {r: i for i, r in enumerate(member.rows)}
            member.negatives.discard(row)
        return row

    def interactions(self, exclude_own: bool = True) -> Iterable[tuple[int, int, float]]:
        """(member, row, weight) of every live engagement, for fitting the collaborative model."""
        alive = self.catalogue.alive
        creator = self.catalogue.creator
        for member_id, member in self.members.items():
            for row, weight in zip(member.rows, member.weights, strict=True):
                if alive[row] and not (exclude_own and creator[row] == member_id):
                    yield member_id, row, weight


def log1p_safe(values: np.ndarray) -> np.ndarray:
    return np.log1p(np.maximum(values, 0.0))


def half_life_decay(age_s: np.ndarray, half_life_s: float) -> np.ndarray:
    return np.asarray(np.exp2(-np.maximum(age_s, 0.0) / max(half_life_s, 1.0)))


def days(value: float) -> float:
    return value * 86400.0


def finite_or(value: float, default: float) -> float:
    return value if math.isfinite(value) else default
