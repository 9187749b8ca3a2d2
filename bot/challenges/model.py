"""What a challenge is: its windows, its rules and its phase, as typed, validated values.

A challenge moves scheduled → open (taking entries) → voting → closed, or is cancelled; the phase in
the database is the truth (timers move it on time, bot/challenges/lifecycle.py), so whether a vote or
an entry is accepted never depends on a process's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from wire.contract import MODALITIES

ChallengeModality = Literal["music", "image", "text", "any"]
MAX_TITLE = 100
MAX_BRIEF = 2000


class Phase(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    VOTING = "voting"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class VotingMode(StrEnum):
    COMMUNITY = "community"
    """One vote per entry per member; most votes wins."""
    RANKED = "ranked"
    """Each member gives 3, 2 and 1 points to their first, second and third choice."""
    JUDGES = "judges"
    """Named judges score each entry on the criteria; the highest mean total wins."""


class Criterion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(..., min_length=1, max_length=45)
    low: float = 0
    high: float = 10

    @model_validator(mode="after")
    def _range(self) -> Criterion:
        if self.high <= self.low:
            raise ValueError(f"criterion {self.name}: its highest score must be above its lowest")
        return self


class Rules(BaseModel):
    """Everything a moderator decides about a challenge besides its text and times."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entries_per_member: int = Field(1, ge=1, le=10)
    uploads: bool = False
    """Human-made uploads are taken beside AI-made entries (each entry is labelled)."""
    locked: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Options every entry's job must have (e.g. {"style": "reel"} or {"width": 512})."""
    required_role: int | None = None
    min_member_days: int = Field(0, ge=0, le=3650)
    voting: VotingMode = VotingMode.COMMUNITY
    judges: tuple[int, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    winner_role: int | None = None
    winner_role_days: int = Field(7, ge=1, le=365)
    remind_before_h: float = Field(12.0, ge=0, le=168)

    @model_validator(mode="after")
    def _judges(self) -> Rules:
        if self.voting is VotingMode.JUDGES and (not self.judges or not self.criteria):
            raise ValueError("a judges' panel needs at least one judge and one criterion")
        return self


@dataclass(frozen=True)
class Challenge:
    id: int
    guild_id: int
    title: str
    brief: str
    modality: ChallengeModality
    channel_id: int
    forum: bool
    opens_at: datetime
    voting_at: datetime
    closes_at: datetime
    phase: Phase
    rules: Rules
    created_by: int
    results: dict[str, Any] | None = None
    discord: dict[str, Any] | None = None

    def fits(self, modality: str) -> bool:
        return self.modality in ("any", modality)


@dataclass(frozen=True)
class Entry:
    id: int
    challenge_id: int
    member_id: int
    job_id: str | None
    made_by: Literal["ai", "human"]
    caption: str
    files: tuple[dict[str, Any], ...]
    created_at: datetime
    withdrawn_at: datetime | None = None
    removed_at: datetime | None = None
    post: dict[str, Any] | None = None

    @property
    def counts(self) -> bool:
        """In the tally: not withdrawn, not removed."""
        return self.withdrawn_at is None and self.removed_at is None


class NewChallenge(BaseModel):
    """A moderator's request, validated before anything is stored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(..., min_length=1, max_length=MAX_TITLE)
    brief: str = Field(..., min_length=1, max_length=MAX_BRIEF)
    modality: ChallengeModality = "any"
    channel_id: int
    forum: bool = False
    opens_at: datetime
    submission_hours: float = Field(..., gt=0, le=24 * 60)
    voting_hours: float = Field(..., gt=0, le=24 * 30)
    rules: Rules = Field(default_factory=Rules)

    @field_validator("title", "brief")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("modality")
    @classmethod
    def _modality(cls, value: str) -> str:
        if value != "any" and value not in MODALITIES:
            raise ValueError(f"must be any or one of {', '.join(MODALITIES)}")
        return value

    @property
    def voting_at(self) -> datetime:
        return self.opens_at + timedelta(hours=self.submission_hours)

    @property
    def closes_at(self) -> datetime:
        return self.voting_at + timedelta(hours=self.voting_hours)
