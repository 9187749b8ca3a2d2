"""The job contract: what travels between the bot and the workers.

Versioned, JSON-only, and importing nothing heavier than pydantic, so that every side
(bot, CLI, workers, models) can share it without pulling in Discord or torch.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

CONTRACT_VERSION: Literal[1] = 1

Modality = Literal["music", "image", "text"]
MODALITIES: tuple[Modality, ...] = ("music", "image", "text")

MUSIC_STYLES = ("reel", "jig", "slip jig", "hornpipe", "strathspey", "waltz", "air", "chorale", "folk song")
MUSIC_MODES = ("major", "minor", "dorian", "mixolydian", "aeolian", "ionian")
MUSIC_KEYS = ("C", "C#", "Db", "D", "D#", "Eb", "E", "F", "F#", "Gb", "G", "G#", "Ab", "A", "A#", "Bb", "B")
MUSIC_ACCOMPANIMENTS = ("none", "chords", "bass")
MUSIC_FORMS = ("auto", "AABB", "AB", "none")  # auto: the style's (AABB for the dances, AB for airs)
TEXT_KINDS = ("poem", "story", "lyrics", "prompt_ideas", "challenge_theme", "free")

MAX_PROMPT_CHARS = 1000
SEED_MAX = 2**32 - 1
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


def new_job_id() -> str:
    """A fresh job id: 32 lowercase hex characters."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _clean_prompt(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty or only whitespace")
    return value


class MusicOptions(_Frozen):
    """What a member can ask of the music model."""

    style: Literal[MUSIC_STYLES] = "reel"  # type: ignore[valid-type]
    key: Literal[MUSIC_KEYS] = "D"  # type: ignore[valid-type]
    mode: Literal[MUSIC_MODES] = "major"  # type: ignore[valid-type]
    tempo: int = Field(120, ge=30, le=300, description="beats per minute")
    bars: int = Field(16, ge=4, le=64, description="full bars after any upbeat, repeats written out")
    form: Literal[MUSIC_FORMS] = "auto"  # type: ignore[valid-type]
    instrument: int = Field(0, ge=0, le=127, description="General MIDI program")
    accompaniment: Literal[MUSIC_ACCOMPANIMENTS] = "none"  # type: ignore[valid-type]
    seed: int | None = Field(None, ge=0, le=SEED_MAX)
    temperature: float = Field(1.0, gt=0.0, le=2.0)
    top_p: float = Field(0.97, gt=0.0, le=1.0)
    prime_artifact: str | None = Field(None, description="artifact key of a MIDI file to continue")


class ImageOptions(_Frozen):
    """What a member can ask of the image model."""

    prompt: str = Field(..., max_length=MAX_PROMPT_CHARS)
    negative_prompt: str = Field("", max_length=MAX_PROMPT_CHARS)
    width: int = Field(512, ge=64, le=2048, multiple_of=8)
    height: int = Field(512, ge=64, le=2048, multiple_of=8)
    steps: int | None = Field(None, ge=1, le=150)
    guidance: float | None = Field(None, ge=0.0, le=30.0)
    seed: int | None = Field(None, ge=0, le=SEED_MAX)
    count: int = Field(1, ge=1, le=4)
    init_artifact: str | None = Field(None, description="artifact key of an image for image-to-image")
    strength: float = Field(0.6, gt=0.0, le=1.0)

    _prompt = field_validator("prompt")(_clean_prompt)


class TextOptions(_Frozen):
    """What a member can ask of the text model."""

    kind: Literal[TEXT_KINDS] = "free"  # type: ignore[valid-type]
    prompt: str = Field(..., max_length=2 * MAX_PROMPT_CHARS)
    max_new_tokens: int = Field(160, ge=1, le=2048)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    seed: int | None = Field(None, ge=0, le=SEED_MAX)

    _prompt = field_validator("prompt")(_clean_prompt)


class JobBase(_Frozen):
    """Fields every job carries."""

    version: Literal[1] = CONTRACT_VERSION
    id: str = Field(default_factory=new_job_id)
    guild_id: int | None = None
    channel_id: int | None = None
    user_id: int | None = None
    parent_id: str | None = Field(None, description="the job this one remixes (reroll, variation, extend)")
    preset: str | None = Field(None, max_length=64, description="model preset; None means the default")
    created_at: datetime = Field(default_factory=utcnow)

    @field_validator("id", "parent_id")
    @classmethod
    def _check_id(cls, value: str | None) -> str | None:
        if value is not None and not _JOB_ID.match(value):
            raise ValueError("must be 32 lowercase hex characters")
        return value


class MusicJob(JobBase):
    modality: Literal["music"] = "music"
    options: MusicOptions = Field(default_factory=MusicOptions)


class ImageJob(JobBase):
    modality: Literal["image"] = "image"
    options: ImageOptions


class TextJob(JobBase):
    modality: Literal["text"] = "text"
    options: TextOptions


AnyJob = MusicJob | ImageJob | TextJob
"""Any job, as a type; `Job` is the same union tagged by `modality` for validation."""
Job = Annotated[AnyJob, Field(discriminator="modality")]
_JOB_ADAPTER: TypeAdapter[AnyJob] = TypeAdapter(Job)


class Outcome(StrEnum):
    """How a job ended on the worker. (Where a job is in the bot's own lifecycle, queued or
    delivered, is the bot's business: `bot.db.status.JobStatus`.)"""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ErrorCode(StrEnum):
    """Why a job did not succeed; the bot turns each into a friendly sentence."""

    INVALID_INPUT = "invalid_input"
    NOT_AVAILABLE = "not_available"
    MODEL_MISSING = "model_missing"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    WORKER_LOST = "worker_lost"
    INTERNAL = "internal"


class ArtifactRef(_Frozen):
    """A pointer to a stored file: only keys travel through the queue, never bytes."""

    key: str
    filename: str
    content_type: str
    kind: str = Field(..., description="audio, midi, image, grid, piano_roll, text, ...")
    size: int = Field(..., ge=0)
    sha256: str


class Progress(_Frozen):
    job_id: str
    fraction: float = Field(..., ge=0.0, le=1.0)
    message: str = ""
    step: int | None = None
    total: int | None = None
    preview_text: str | None = None


class JobResult(_Frozen):
    job_id: str
    status: Outcome
    artifacts: tuple[ArtifactRef, ...] = ()
    metadata: dict[str, Any] = Field(default_factory=dict)
    text: str | None = None
    error: str | None = None
    error_code: ErrorCode | None = None
    worker: str | None = None
    started_at: datetime | None = None
    finished_at: datetime = Field(default_factory=utcnow)


class StartedEvent(_Frozen):
    type: Literal["started"] = "started"
    job_id: str
    worker: str
    attempt: int = 1
    at: datetime = Field(default_factory=utcnow)


class ProgressEvent(_Frozen):
    type: Literal["progress"] = "progress"
    progress: Progress
    at: datetime = Field(default_factory=utcnow)


class ResultEvent(_Frozen):
    type: Literal["result"] = "result"
    result: JobResult
    at: datetime = Field(default_factory=utcnow)


class EmbedItem(_Frozen):
    """One item to embed for discovery: its id and the text the encoder reads."""

    item_id: str = Field(..., max_length=100)
    text: str = Field(..., max_length=4000)


class EmbedRequest(_Frozen):
    """What the bot sends on the embedding queue (wire.routing.EMBED_QUEUE): items to embed."""

    version: Literal[1] = CONTRACT_VERSION
    request_id: str = Field(default_factory=new_job_id)
    guild_id: int
    items: tuple[EmbedItem, ...] = Field(..., min_length=1, max_length=64)


class EmbeddedVector(_Frozen):
    item_id: str
    vector: tuple[float, ...] = Field(..., min_length=1, max_length=4096)


class EmbeddedEvent(_Frozen):
    """The embedding worker's answer on the event stream: one unit vector per item."""

    type: Literal["embedded"] = "embedded"
    request_id: str
    guild_id: int
    model: str
    vectors: tuple[EmbeddedVector, ...]
    at: datetime = Field(default_factory=utcnow)


Event = Annotated[StartedEvent | ProgressEvent | ResultEvent | EmbeddedEvent, Field(discriminator="type")]
_EVENT_ADAPTER: TypeAdapter[StartedEvent | ProgressEvent | ResultEvent | EmbeddedEvent] = TypeAdapter(Event)


def field_bounds(model: type[BaseModel], name: str) -> tuple[Any, Any]:
    """The lowest and highest value a field accepts (None where it sets none): the one source of the
    ranges that slash commands and command-line options offer."""
    low = high = None
    for item in model.model_fields[name].metadata:
        low = getattr(item, "ge", getattr(item, "gt", low))
        high = getattr(item, "le", getattr(item, "lt", high))
    return low, high


def max_length(model: type[BaseModel], name: str) -> int:
    """The most characters a string field accepts."""
    for item in model.model_fields[name].metadata:
        if getattr(item, "max_length", None) is not None:
            return int(item.max_length)
    raise ValueError(f"{model.__name__}.{name} sets no max_length")


def field_default(model: type[BaseModel], name: str) -> Any:
    """A field's default value."""
    return model.model_fields[name].get_default(call_default_factory=True)


class ContractError(ValueError):
    """A payload that does not match the contract; the message names the fields."""

    def __init__(self, error: ValidationError) -> None:
        self.errors = error.errors(include_url=False, include_input=False)
        parts = []
        for item in self.errors:
            field = ".".join(str(p) for p in item["loc"]) or "(payload)"
            parts.append(f"{field}: {item['msg']}")
        super().__init__("invalid job payload: " + "; ".join(parts))


def parse_job(payload: str | bytes | dict[str, Any]) -> AnyJob:
    """Validate a job from JSON text or a decoded dict; raise ContractError naming the fields."""
    try:
        if isinstance(payload, str | bytes):
            return _JOB_ADAPTER.validate_json(payload)
        return _JOB_ADAPTER.validate_python(payload)
    except ValidationError as error:
        raise ContractError(error) from None


def parse_event(payload: str | bytes) -> StartedEvent | ProgressEvent | ResultEvent | EmbeddedEvent:
    """Validate an event from its JSON text."""
    try:
        return _EVENT_ADAPTER.validate_json(payload)
    except ValidationError as error:
        raise ContractError(error) from None


def dump(model: BaseModel) -> str:
    """The JSON text that travels on the queue or the event stream."""
    return model.model_dump_json()
