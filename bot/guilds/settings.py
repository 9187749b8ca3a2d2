"""What a server can configure: one typed, validated document (moderation fills it in).

Unknown keys are refused, so a document written by a newer bot is never half-read by an older one
without notice; every field needs a default, so a server that never configured anything gets the
operator's defaults.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError


class GuildSettings(BaseModel):
    """A server's settings (none yet: moderator configuration adds its fields here)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


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
