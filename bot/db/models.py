"""ORM tables of the bot's database. Only the bot writes them; workers never touch the database.

Every timestamp is a timezone-aware UTC datetime, on PostgreSQL and on SQLite alike (see UTCDateTime).
Changing a table here needs a new migration in bot/db/migrations/versions/.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.db.status import JobStatus
from wire.contract import MODALITIES, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset, so values are converted to UTC on the way in and tagged as UTC on the
    way out. Naive datetimes are refused: their meaning is a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with named constraints, so later migrations can alter them (also on SQLite)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


JOB_STATUS_TYPE = Enum(
    JobStatus,
    name="job_status",
    native_enum=False,
    create_constraint=True,
    length=16,
    values_callable=lambda statuses: [status.value for status in statuses],
    validate_strings=True,
)
MODALITY_TYPE = Enum(*MODALITIES, name="job_modality", native_enum=False, create_constraint=True, length=16)


class JobRow(Base):
    """One generation job and its whole life: queued → running → finished → delivered."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    modality: Mapped[str] = mapped_column(MODALITY_TYPE)
    status: Mapped[JobStatus] = mapped_column(JOB_STATUS_TYPE, default=JobStatus.QUEUED)
    preset: Mapped[str | None] = mapped_column(String(64))
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    parent_id: Mapped[str | None] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    progress_message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(32))
    worker: Mapped[str | None] = mapped_column(String(255))
    delivery_target: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set while a bot process is sending the result; a claim older than the lease is abandoned."""
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    hold: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    """Why a finished job is kept back and what was decided (bot/delivery/gates.py), or None."""
    fair_key: Mapped[float | None] = mapped_column(Float)
    """A waiting job's place in the release order (bot/pipeline/fairness.py); lower goes first."""

    artifacts: Mapped[list[ArtifactRow]] = relationship(
        back_populates="job", order_by="ArtifactRow.id", lazy="raise", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_jobs_status_created_at", "status", "created_at"),
        Index("ix_jobs_user_id_created_at", "user_id", "created_at"),
        Index("ix_jobs_status_modality_created_at", "status", "modality", "created_at"),
        Index("ix_jobs_guild_id_user_id_created_at", "guild_id", "user_id", "created_at"),
        Index("ix_jobs_status_modality_fair_key", "status", "modality", "fair_key", "created_at"),
    )


class ArtifactRow(Base):
    """A file a job produced; the bytes live in the artifact store under `key`."""

    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(512))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    job: Mapped[JobRow] = relationship(back_populates="artifacts", lazy="raise")

    __table_args__ = (UniqueConstraint("job_id", "key"),)


TIMER_STATES = ("pending", "done", "cancelled", "failed")
"""A timer's states (bot.scheduling.repository.TimerState names them): only pending ones fire."""
TIMER_STATE_TYPE = Enum(
    *TIMER_STATES, name="timer_state", native_enum=False, create_constraint=True, length=16
)


class TimerRow(Base):
    """A durable timer: the handler for `kind` runs once `due_at` has passed (bot/scheduling).

    `key` deduplicates: scheduling the same key again moves the pending timer instead of adding one.
    A scheduler that claims a timer holds it until `lease_expires_at`; if it dies, another takes over.
    """

    __tablename__ = "timers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    guild_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(TIMER_STATE_TYPE, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_timers_state_due_at", "state", "due_at"),
    )


class GuildSettingsRow(Base):
    """One server's settings, as moderators set them (bot/guilds): a JSON document with a version.

    The version makes a write a compare-and-set: two moderators editing at once cannot lose a change.
    """

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_by: Mapped[int | None] = mapped_column(BigInteger)
    """The member who made the last change (None for the operator's own tools)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AuditRow(Base):
    """One thing a moderator changed or the bot refused on a server (bot/guilds/audit.py)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    """Who did it (None: the bot itself, or the operator's tools)."""
    action: Mapped[str] = mapped_column(String(64))
    key: Mapped[str | None] = mapped_column(String(255))
    old: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    new: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_audit_log_guild_id_created_at", "guild_id", "created_at"),)


class QueueClockRow(Base):
    """Each modality's virtual clock for fair sharing: the release key of the job released last."""

    __tablename__ = "queue_clocks"

    modality: Mapped[str] = mapped_column(String(16), primary_key=True)
    virtual: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class ChallengeRow(Base):
    """A community challenge on one server (bot/challenges): its brief, windows, rules and phase."""

    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, index=True)
    title: Mapped[str] = mapped_column(String(100))
    brief: Mapped[str] = mapped_column(Text)
    modality: Mapped[str] = mapped_column(String(16))
    """music, image, text, or any."""
    channel_id: Mapped[int] = mapped_column(BigInteger)
    forum: Mapped[bool] = mapped_column(default=False)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voting_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    phase: Mapped[str] = mapped_column(String(16))
    """scheduled, open, voting, closed or cancelled."""
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Entries per member, uploads, locked options, eligibility, voting mode, judges, criteria, prizes."""
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    discord: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What the bot made for it on Discord: scheduled events, the leaderboard message."""
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ChallengeEntryRow(Base):
    """One entry: a member's own job (AI-made) or an upload (human-made), with its files kept."""

    __tablename__ = "challenge_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(BigInteger)
    job_id: Mapped[str | None] = mapped_column(String(32))
    made_by: Mapped[str] = mapped_column(String(8))
    """ai or human."""
    caption: Mapped[str] = mapped_column(Text)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """Artifact references in the store's kept space (they do not expire with the job's files)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Deleted by a moderator, or its member left: out of the tally, kept for the record."""
    post: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    """Where the bot posted it for voting (channel, message, thread)."""
    points: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    votes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Kept up to date by every vote, so the count at the deadline reads entries, not votes."""

    __table_args__ = (
        UniqueConstraint("challenge_id", "job_id"),
        Index("ix_challenge_entries_challenge_id_points", "challenge_id", "points"),
    )


class ChallengeVoteRow(Base):
    """A member's vote: one per entry (community), or a place 1 to 3 (ranked)."""

    __tablename__ = "challenge_votes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("challenge_entries.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(BigInteger)
    place: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """0 for a community vote; 1, 2 or 3 for a ranked one."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("challenge_id", "voter_id", "entry_id"),
        Index("ix_challenge_votes_challenge_id_entry_id_place", "challenge_id", "entry_id", "place"),
    )


class ChallengeScoreRow(Base):
    """A judge's score of an entry on one criterion; locked once the judge submits."""

    __tablename__ = "challenge_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("challenge_entries.id", ondelete="CASCADE"))
    judge_id: Mapped[int] = mapped_column(BigInteger)
    criterion: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    locked: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (UniqueConstraint("challenge_id", "entry_id", "judge_id", "criterion"),)


class ChallengeSubscriberRow(Base):
    """A member who asked to be reminded before a challenge's deadlines."""

    __tablename__ = "challenge_subscribers"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class OutboxRow(Base):
    """A message the bot must post exactly once (an announcement, a reminder), written by whoever
    decided it (a timer in the scheduler) and posted by the bot (bot/delivery/outbox.py)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    """What it is about, unique: the same announcement written twice is stored once."""
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    """For a direct message (a reminder) instead of a channel."""
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_posted_at_id", "posted_at", "id"),)


class DiscoveryItemRow(Base):
    """Something a member made that discovery may recommend on its server (bot/discovery): a
    delivered result or a challenge entry, with its content embedding once the worker sent it."""

    __tablename__ = "discovery_items"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    """A job's id for a result; `<source>:<id>` for anything else (a challenge entry)."""
    guild_id: Mapped[int] = mapped_column(BigInteger)
    creator_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    modality: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON)
    nsfw: Mapped[bool] = mapped_column(default=False)
    """Age-restricted: made in an age-restricted channel, or flagged; only shown in such channels."""
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """The post members react to."""
    job_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    embedding: Mapped[bytes | None] = mapped_column()
    """Unit vector, float16 little-endian (384 × 2 bytes for MiniLM)."""
    embedding_model: Mapped[str | None] = mapped_column(String(64))
    embed_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_discovery_items_guild_id_created_at", "guild_id", "created_at"),)


class DiscoverySignalRow(Base):
    """One thing a member did with an item (reaction, play, remix, vote, more like this, not for me)."""

    __tablename__ = "discovery_signals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[int] = mapped_column(BigInteger, index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("discovery_items.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_discovery_signals_guild_id_created_at", "guild_id", "created_at"),)


class DiscoveryOptOutRow(Base):
    """A member who opted out of discovery (`/discover action:optout`): no signal of theirs is kept."""

    __tablename__ = "discovery_optouts"

    member_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
