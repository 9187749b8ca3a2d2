"""Typed settings: environment (prefix ATELIER_) > .env > config/atelier.toml > defaults.

Secrets are SecretStr and never printed; `Settings.masked()` is what `atelier config show` prints.
Invalid configuration raises ConfigError naming the offending key.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PACKAGE_TOML = Path(__file__).with_name("atelier.toml")


class ConfigError(RuntimeError):
    """Configuration that cannot work; the message names the key and what is wrong."""


class QueueLimits(BaseModel):
    """Celery time limits for one modality's queue, in seconds."""

    soft_time_limit: int = Field(..., gt=0)
    time_limit: int = Field(..., gt=0)


class TextPreset(BaseModel):
    """A causal language model: in process (`transformers`: by Hugging Face id, local folder or bundled
    GGUF) or on an inference server that speaks the OpenAI chat-completions API (`openai`: vLLM,
    llama.cpp's server, Ollama, TGI, LM Studio), where `model` is the name the server knows it by."""

    backend: Literal["transformers", "openai"] = "transformers"
    model: str = Field(
        ...,
        description="HF id, local folder, 'package:<module>' for a bundled GGUF, or the server's model name",
    )
    gguf_file: str | None = None
    device: str = "cpu"
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    threads: int | None = Field(None, ge=1)
    quantize: Literal["none", "int8"] = Field(
        "none", description="int8: int8 weight-only Linear layers (CPU)"
    )
    max_new_tokens: int = Field(512, ge=1, le=4096)
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    repetition_penalty: float = Field(1.1, ge=1.0, le=2.0)
    # Following the form a request names (models/text/writer.py), on either backend.
    attempts: int = Field(3, ge=1, le=8, description="drafts at most per job when one misses its form")
    few_shot: bool = Field(True, description="show the model one example in the form asked for")
    # backend = "openai": the server, its key (the name of an environment variable; the key itself is
    # read from there at load, never from a file, and shown masked), timeouts, retries, sampling.
    base_url: str | None = Field(None, validate_default=True, description="e.g. http://127.0.0.1:8080/v1")
    api_key_env: str | None = Field(None, description="environment variable that holds the API key")
    api_key: SecretStr | None = Field(
        None, validate_default=True, description="read from api_key_env; never set it in a file"
    )
    connect_timeout_s: float = Field(5.0, gt=0, le=120)
    read_timeout_s: float = Field(60.0, gt=0, le=600, description="longest wait for the next streamed chunk")
    max_retries: int = Field(3, ge=0, le=10, description="retries of a 429, a 5xx or a refused connection")
    retry_backoff_s: float = Field(
        1.0, ge=0, le=60, description="first wait, doubled each retry (or Retry-After)"
    )
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description="server-specific request fields, e.g. {repeat_penalty = 1.1, top_k = 40}",
    )
    form_grammar: Literal["none", "gbnf"] = Field(
        "none",
        description="gbnf: send the request's form as a GBNF grammar the server samples within "
        "(llama.cpp's server; vLLM's xgrammar reads the same notation)",
    )
    grammar_field: str = Field(
        "grammar",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
        description="where the grammar goes in the request body; dots nest (vLLM: structured_outputs.grammar)",
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None, info: Any) -> str | None:
        if value is None:
            if info.data.get("backend") == "openai":
                raise ValueError("an openai preset needs base_url")
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("api_key")
    @classmethod
    def _key_from_environment(cls, value: SecretStr | None, info: Any) -> SecretStr | None:
        variable = info.data.get("api_key_env")
        if value is None and variable and os.environ.get(variable):
            return SecretStr(os.environ[variable])
        return value


class ImagePreset(BaseModel):
    """A diffusers text-to-image checkpoint, by Hugging Face id or local folder."""

    backend: Literal["diffusers"] = "diffusers"
    model: str
    device: str = "cuda"
    dtype: Literal["float32", "float16", "bfloat16"] = "float16"
    default_steps: int = Field(4, ge=1, le=150)
    max_steps: int = Field(8, ge=1, le=150)
    guidance: float = Field(0.0, ge=0.0, le=30.0)
    sizes: list[tuple[int, int]] = Field(default_factory=lambda: [(512, 512)])
    scheduler: str | None = None
    variant: str | None = None


class BatchSettings(BaseModel):
    """Queue-level batching on image workers: after taking a job, gather compatible queued jobs (same
    preset, size, steps, guidance) and run them in one pipeline call. max_size 1 turns it off."""

    max_size: int = Field(1, ge=1, le=64, description="jobs per batch, the received one included; 1 = off")
    max_wait_ms: int = Field(0, ge=0, le=10_000, description="how long to wait for more compatible jobs")


class MusicPreset(BaseModel):
    """Atelier's own symbolic music model: a folder with weights, tokenizer and card."""

    backend: Literal["atelier-music"] = "atelier-music"
    model: str = "models/music/weights"
    device: str = "cpu"
    threads: int | None = Field(None, ge=1)


class S3Settings(BaseModel):
    """An S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, moto's server). Credentials are never
    settings: boto3 reads them from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a role."""

    bucket: str | None = Field(None, description="required when artifacts.store is s3")
    endpoint_url: str | None = Field(None, description="for S3-compatible servers; AWS's own when unset")
    region: str | None = Field(None, description="e.g. us-east-1; boto3's default when unset")
    prefix: str = Field("", description="keys are stored under this folder of the bucket")

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class ArtifactSettings(BaseModel):
    """Where generated files live. Only keys travel through Celery."""

    store: Literal["local", "redis", "s3"] = "redis"
    local_dir: Path = Path("var/artifacts")
    redis_url: str | None = Field(None, description="defaults to the broker URL")
    redis_ttl_s: int = Field(7 * 24 * 3600, gt=0)
    max_bytes: int = Field(25 * 1024 * 1024, gt=0)
    s3: S3Settings = Field(default_factory=S3Settings)

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> ArtifactSettings:
        if self.store == "s3" and not self.s3.bucket:
            raise ValueError("store s3 needs a bucket: set ATELIER_ARTIFACTS__S3__BUCKET")
        return self


class EventSettings(BaseModel):
    """The Redis Stream that carries progress and results back to the bot."""

    stream: str = "atelier:events"
    group: str = "atelier-bot"
    maxlen: int = Field(100_000, gt=0)
    block_ms: int = Field(1000, gt=0)
    claim_idle_ms: int = Field(60_000, gt=0)
    handler_concurrency: int | None = Field(
        None, ge=1, description="jobs whose events are applied at once; default 1 on SQLite, 8 otherwise"
    )


class ModerationSettings(BaseModel):
    """Operator-wide defaults and hard limits: what every server starts with, and the most any server
    may set with /config (the command says so when a value is capped)."""

    blocked_terms: list[str] = Field(default_factory=list, description="refused on every server")
    daily_jobs: int = Field(100, ge=0, description="jobs a member may start per UTC day, by default")
    max_daily_jobs: int = Field(1000, ge=0)
    cooldown_s: int = Field(0, ge=0, description="seconds between a member's jobs, by default")
    concurrent_jobs: int = Field(5, ge=1, description="a member's jobs waiting or running at once")
    max_concurrent_jobs: int = Field(20, ge=1)
    queue_cap: int = Field(100, ge=1, description="a server's jobs waiting or queued at once")
    max_queue_cap: int = Field(500, ge=1)
    max_blocked_terms: int = Field(1000, ge=0)
    max_term_length: int = Field(60, ge=1)
    least_strict_safety: Literal["strict", "standard", "relaxed"] = Field(
        "relaxed", description="the most permissive safety level a server may choose"
    )
    server_weights: dict[int, float] = Field(
        default_factory=dict, description="fair-sharing weight by server id (default 1; a partner 2)"
    )
    server_queue_caps: dict[int, int] = Field(
        default_factory=dict, description="a server's own queue cap, over its /config value"
    )
    import_max_bytes: int = Field(64 * 1024, gt=0, description="the largest /config import file")


class ReconcilerSettings(BaseModel):
    """How the scheduler recovers jobs stuck in a non-terminal state."""

    interval_s: float = Field(30.0, gt=0)
    queued_grace_s: float = Field(120.0, gt=0, description="queued with no start for this long")
    running_grace_s: float = Field(60.0, gt=0, description="added to the queue's hard time limit")
    max_attempts: int = Field(3, ge=1)


class AdmissionSettings(BaseModel):
    """How many jobs of a modality may be on the broker or running at once; the rest wait in the
    database and are released as these finish (bot/pipeline/admission.py), so the broker queue stays
    short and the order in which jobs start is the bot's to decide."""

    queue_capacity: int = Field(32, ge=1, le=100_000, description="jobs queued or running, per modality")
    capacities: dict[str, int] = Field(default_factory=dict, description="per-modality overrides")

    def capacity(self, modality: str) -> int:
        return self.capacities.get(modality, self.queue_capacity)


class SchedulerSettings(BaseModel):
    """How the scheduler process fires durable timers (bot/scheduling)."""

    poll_s: float = Field(5.0, gt=0, description="how often due timers are looked for")
    lease_s: float = Field(
        120.0, gt=0, description="how long a claimed timer is held; a handler is cut off at half of it"
    )
    max_attempts: int = Field(5, ge=1, description="handler runs before a timer is marked failed")
    retry_base_s: float = Field(30.0, ge=0, description="wait before the first retry, doubled each time")
    retry_max_s: float = Field(3600.0, ge=0, description="longest wait between retries")
    batch_size: int = Field(20, ge=1, le=1000, description="timers claimed per pass")


class DiscoverySettings(BaseModel):
    """Discovery (bot/discovery, docs/discover.md): personal feeds of a server's own work, ranked by
    a hybrid of content similarity, collaborative signals, popularity and freshness. The weights
    are the ones chosen on the simulator; `atelier discover eval` on a server's exported log
    chooses that server's (docs/discover.md)."""

    enabled: bool = True
    page_size: int = Field(5, ge=1, le=5, description="items per /discover page (five rows of buttons)")
    content_weight: float = Field(0.5, ge=0, le=10)
    collaborative_weight: float = Field(0.25, ge=0, le=10)
    popularity_weight: float = Field(0.25, ge=0, le=10)
    freshness_weight: float = Field(1.0, ge=0, le=10)
    diversity: float = Field(0.3, ge=0, le=2, description="MMR: how much near-copies on a page are held back")
    exploration_share: float = Field(0.2, ge=0, le=1, description="share of a page kept for new creators")
    new_creator_days: float = Field(30.0, ge=0)
    freshness_half_life_days: float = Field(7.0, gt=0)
    popularity_half_life_days: float = Field(14.0, gt=0)
    refit_interval_s: float = Field(
        600.0, gt=0, description="how often a server's collaborative model is refitted"
    )
    refit_min_signals: int = Field(20, ge=1, description="new signals needed before a refit")
    factors: int = Field(48, ge=4, le=256)
    ann_m: int = Field(16, ge=4, le=64, description="HNSW links per item")
    ann_ef_search: int = Field(96, ge=8, le=1024)
    embed_timeout_s: float = Field(
        300.0, gt=0, description="an item still unembedded after this is asked again"
    )
    shown_ttl_s: float = Field(
        3600.0, gt=0, description="items already shown stay off the next pages this long"
    )
    max_servers_loaded: int = Field(64, ge=1, description="servers kept in memory (least recently used go)")


class MetricsSettings(BaseModel):
    """Prometheus metrics (docs/metrics.md): a `/metrics` endpoint in the bot and in each worker, off
    while its port is unset (or 0). Two processes on one host need two ports."""

    host: str = Field("127.0.0.1", description="interface the endpoints bind; 0.0.0.0 for a remote scraper")
    bot_port: int | None = Field(None, ge=0, le=65535, description="the bot's /metrics port; unset or 0: off")
    worker_port: int | None = Field(
        None, ge=0, le=65535, description="a worker's /metrics port; unset or 0: off"
    )
    multiproc_dir: Path | None = Field(
        None,
        description="where a worker's pool children write their metrics (one folder per worker, emptied "
        "at start); a fresh temporary folder when unset",
    )
    refresh_s: float = Field(
        15.0, gt=0, le=3600, description="how often the bot reads queue depths from the database and broker"
    )


class Settings(BaseSettings):
    """Everything Atelier reads at start."""

    model_config = SettingsConfigDict(
        env_prefix="ATELIER_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
        toml_file=PACKAGE_TOML,
    )

    env: Literal["development", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False
    data_dir: Path = Path("var")
    model_cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "atelier")

    redis_url: str = "redis://127.0.0.1:6379/0"
    database_url: str = "sqlite+aiosqlite:///var/atelier.db"

    discord_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ATELIER_DISCORD_TOKEN", "DISCORD_TOKEN")
    )
    discord_api_base: str | None = Field(
        None, validation_alias=AliasChoices("ATELIER_DISCORD_API_BASE", "DISCORD_API_BASE")
    )
    discord_gateway_url: str | None = Field(
        None, validation_alias=AliasChoices("ATELIER_DISCORD_GATEWAY_URL", "DISCORD_GATEWAY_URL")
    )
    discord_test_guild_id: int | None = None
    discord_shard_count: int | None = Field(None, ge=1)
    discord_shard_ids: list[int] | None = Field(
        None, description="the shards this process runs (one process per group of shards); all when unset"
    )

    queues: dict[str, QueueLimits] = Field(default_factory=dict)
    visibility_timeout_s: int = Field(3600, gt=0)
    artifacts: ArtifactSettings = Field(default_factory=ArtifactSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    reconciler: ReconcilerSettings = Field(default_factory=ReconcilerSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    admission: AdmissionSettings = Field(default_factory=AdmissionSettings)
    moderation: ModerationSettings = Field(default_factory=ModerationSettings)
    discovery: DiscoverySettings = Field(default_factory=DiscoverySettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    default_text_preset: str = "smollm2-135m"
    default_image_preset: str = "sd-turbo"
    default_music_preset: str = "atelier-folk"
    text_presets: dict[str, TextPreset] = Field(default_factory=dict)
    image_presets: dict[str, ImagePreset] = Field(default_factory=dict)
    image_batch: BatchSettings = Field(default_factory=BatchSettings)
    music_presets: dict[str, MusicPreset] = Field(default_factory=dict)

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("database_url")
    @classmethod
    def _db_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("ATELIER_CONFIG_FILE", PACKAGE_TOML))
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_path)
        return (init_settings, env_settings, dotenv_settings, toml, file_secret_settings)

    def queue_limits(self, modality: str) -> QueueLimits:
        """Time limits for a modality's queue (generous defaults where none is configured)."""
        return self.queues.get(modality, QueueLimits(soft_time_limit=300, time_limit=360))

    @property
    def event_handler_concurrency(self) -> int:
        """SQLite has one writer (concurrent writers only queue up and back off); servers take many."""
        if self.events.handler_concurrency is not None:
            return self.events.handler_concurrency
        return 1 if self.database_url.startswith("sqlite") else 8

    @property
    def artifact_redis_url(self) -> str:
        return self.artifacts.redis_url or self.redis_url

    def masked(self) -> dict[str, Any]:
        """The effective configuration as plain data, secrets replaced by '**********'."""
        data: dict[str, Any] = self.model_dump(mode="json")
        data["redis_url"] = mask_url(self.redis_url)
        data["database_url"] = mask_url(self.database_url)
        if self.artifacts.redis_url:
            data["artifacts"]["redis_url"] = mask_url(self.artifacts.redis_url)
        if self.artifacts.s3.endpoint_url:
            data["artifacts"]["s3"]["endpoint_url"] = mask_url(self.artifacts.s3.endpoint_url)
        return data


def mask_url(url: str) -> str:
    """Hide the password in a URL such as redis://:secret@host/0."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:**********@{host}"


def _format_error(error: ValidationError) -> str:
    lines = []
    for item in error.errors(include_url=False):
        loc = [str(p) for p in item["loc"]]
        key = "ATELIER_" + "__".join(loc).upper() if loc else "(settings)"
        shown = "" if "secret" in key.lower() or "token" in key.lower() else f" (got {item.get('input')!r})"
        lines.append(f"{key}: {item['msg']}{shown}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read settings afresh; raise ConfigError naming each bad key."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(_format_error(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
