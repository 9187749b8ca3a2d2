"""Adding a member's upload to a job that was already validated without it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.exts._shared.jobs import AnyJob
from bot.exts._shared.submit import defer
from bot.exts._shared.uploads import UploadRule, check_metadata, store_upload

if TYPE_CHECKING:
    from bot.app import AtelierBot


async def with_upload(
    interaction: discord.Interaction[Any],
    job: AnyJob,
    attachment: discord.Attachment | None,
    rule: UploadRule,
    field: str,
) -> AnyJob:
    """Check the upload's metadata, defer, download and store it, and set `field` to its key."""
    if attachment is None:
        return job
    check_metadata(attachment, rule)
    await defer(interaction)
    bot: AtelierBot = interaction.client  # type: ignore[assignment]
    key = await store_upload(bot.runtime.store, attachment, rule)
    options = job.options.model_copy(update={field: key})
    return job.model_copy(update={"options": options})
