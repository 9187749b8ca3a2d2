"""Adding a member's upload to a job that was already validated without it."""

from __future__ import annotations

import discord

from bot.core.client import Interaction
from bot.exts._shared.submit import defer
from bot.exts._shared.uploads import UploadRule, check_metadata, store_upload
from wire.contract import AnyJob


async def with_upload(
    interaction: Interaction,
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
    key = await store_upload(interaction.client.services.store, attachment, rule)
    options = job.options.model_copy(update={field: key})
    return job.model_copy(update={"options": options})
