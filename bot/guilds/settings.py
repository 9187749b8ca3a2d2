"""What a server can configure: one typed, validated document, edited with /config.

Unknown keys are refused, so a document written by a newer bot is never half-read by an older one
without notice; every field has a default, so a server that never configured anything gets the
operator's defaults (`[moderation]` in config/atelier.toml). What the operator caps is checked by
`bot.guilds.limits`, not here: the document says what moderators asked for.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError, field_validator

from wire.contract import MODALITIES, Modality

SafetyLevel = Literal["strict", "standard", "relaxed"]
SAFETY_LEVELS: tuple[SafetyLevel, ...] = ("strict", "standard", "relaxed")
COMMAND_OF: dict[Modality, str] = {"music": "compose", "image": "imagine", "text": "write"}
"""The slash command that makes each modality."""
OptionValue = str | int | FiniteFloat | bool
"""A default option's value; never NaN or infinite (JSON, and so PostgreSQL, cannot store them)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModalityRules(_Frozen):
    """One modality on one server."""

    enabled: bool = True
    channels: tuple[int, ...] = ()
    """The channels where its command may run; empty: every channel."""
    presets: tuple[str, ...] = ()
    """The presets members may choose; empty: every configured preset."""
    defaults: dict[str, OptionValue] = Field(default_factory=dict)
    """Options applied when the member leaves them out (e.g. a default negative prompt)."""


class RoleLimits(_Frozen):
    """What members with a role may do (None: the server's or the operator's default)."""

    role_id: int
    """A role's id; the server's own id stands for @everyone, as in Discord."""
    daily_jobs: int | None = Field(None, ge=0)
    cooldown_s: int | None = Field(None, ge=0, le=86_400)
    concurrent_jobs: int | None = Field(None, ge=1)


class Approval(_Frozen):
    """Results wait in a moderators' channel until one of them approves."""

    enabled: bool = False
    channel_id: int | None = None


def _default_modalities() -> dict[Modality, ModalityRules]:
    return {modality: ModalityRules() for modality in MODALITIES}


class GuildSettings(_Frozen):
    """A server's settings."""

    modalities: dict[Modality, ModalityRules] = Field(default_factory=_default_modalities)
    limits: tuple[RoleLimits, ...] = ()
    queue_cap: int | None = Field(None, ge=1)
    """The server's jobs waiting or queued at once (None: the operator's default)."""
    blocked_terms: tuple[str, ...] = ()
    barred: tuple[int, ...] = ()
    """Members who may not use the bot here (their buttons stop working too)."""
    safety: SafetyLevel = "standard"
    """`relaxed` applies only in age-restricted channels; elsewhere it counts as `standard`."""
    use_automod: bool = True
    """Apply the server's Discord AutoMod keyword rules to prompts too (when the bot may read them)."""
    audit_channel_id: int | None = None
    approval: Approval = Field(default_factory=Approval)

    @field_validator("modalities")
    @classmethod
    def _every_modality(cls, value: dict[Modality, ModalityRules]) -> dict[Modality, ModalityRules]:
        return {**_default_modalities(), **value}

    @field_validator("blocked_terms")
    @classmethod
    def _clean_terms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = [term.strip() for term in value]
        if any(not term for term in cleaned):
            raise ValueError("a blocked term cannot be empty")
        return tuple(dict.fromkeys(cleaned))  # unique, in order

    def rules(self, modality: Modality) -> ModalityRules:
        return self.modalities.get(modality, ModalityRules())

    def role_limits(self, role_id: int) -> RoleLimits | None:
        return next((limit for limit in self.limits if limit.role_id == role_id), None)


S = TypeVar("S", bound=GuildSettings)


class InvalidSettingsError(ValueError):
    """A settings document that does not validate; the message names the keys."""


def parse_settings(data: dict[str, Any], model: type[S]) -> S:
    """Validate a stored or imported document as `model` (GuildSettings)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or '(settings)'}: {item['msg']}"
            for item in error.errors(include_url=False, include_input=False)
        )
        raise InvalidSettingsError(problems) from None
