"""Checking members' uploads (a MIDI to continue, an image to transform) before they reach a worker.

Cheap checks (extension, declared type, size) run before the reply is deferred; the bytes are then
downloaded and their magic number checked, so a renamed or corrupt file is refused.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import PurePath

import discord

from bot.core.errors import UserFacingError
from wire.artifacts import ArtifactStore

MIB = 1024 * 1024


Signature = tuple[tuple[int, bytes], ...]
"""(offset, bytes) pairs that must all match."""


@dataclass(frozen=True)
class UploadRule:
    """What one attachment option accepts."""

    option: str
    expected: str
    extensions: tuple[str, ...]
    content_types: tuple[str, ...]
    """Declared types accepted; empty: any (the bytes decide)."""
    max_bytes: int
    signatures: tuple[Signature, ...]
    """Magic numbers accepted; empty: any content (a reader that copes with anything reads it)."""

    def magic_ok(self, data: bytes) -> bool:
        """Whether the bytes start like one of the accepted formats."""
        if not self.signatures:
            return True
        return any(
            all(data[offset : offset + len(magic)] == magic for offset, magic in signature)
            for signature in self.signatures
        )


MIDI = UploadRule(
    option="midi",
    expected="a MIDI file (.mid)",
    extensions=(".mid", ".midi"),
    content_types=(
        "audio/midi",
        "audio/x-midi",
        "audio/mid",
        "application/x-midi",
        "application/octet-stream",
    ),
    max_bytes=1 * MIB,
    signatures=(((0, b"MThd\x00\x00\x00\x06"),),),
)
IMAGE = UploadRule(
    option="image",
    expected="a PNG, JPEG or WebP image",
    extensions=(".png", ".jpg", ".jpeg", ".webp"),
    content_types=("image/png", "image/jpeg", "image/webp"),
    max_bytes=8 * MIB,
    signatures=(
        ((0, b"\x89PNG\r\n\x1a\n"),),
        ((0, b"\xff\xd8\xff"),),
        ((0, b"RIFF"), (8, b"WEBP")),
    ),
)


PROVENANCE_FILE = UploadRule(
    option="file",
    expected="a PNG, JPEG or WebP image, a MIDI or Ogg file, or a text file",
    extensions=(".png", ".jpg", ".jpeg", ".webp", ".mid", ".midi", ".ogg", ".oga", ".txt", ".md"),
    content_types=(),
    max_bytes=25 * MIB,
    signatures=(),  # provenance.verify reads any of them, and says so when it finds nothing
)
"""What /verify accepts: any file of those kinds; whether it carries Atelier's marks is its answer."""


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n / 1024:.0f} KiB"


def check_metadata(attachment: discord.Attachment, rule: UploadRule) -> None:
    """Refuse by name, declared type and size, without downloading anything."""
    extension = PurePath(attachment.filename).suffix.lower()
    declared = (attachment.content_type or "").split(";")[0].strip().lower()
    type_refused = bool(declared and rule.content_types and declared not in rule.content_types)
    if extension not in rule.extensions or type_refused:
        raise UserFacingError(
            "attachment_type", option=rule.option, expected=rule.expected, filename=attachment.filename
        )
    if attachment.size > rule.max_bytes:
        raise UserFacingError(
            "attachment_size", option=rule.option, size=_size(attachment.size), limit=_size(rule.max_bytes)
        )
    if attachment.size == 0:
        raise UserFacingError("attachment_empty", option=rule.option)


async def fetch_checked(attachment: discord.Attachment, rule: UploadRule) -> bytes:
    """Download the bytes and check their size and magic number."""
    try:
        data = await attachment.read()
    except (discord.HTTPException, discord.NotFound) as error:
        raise UserFacingError("attachment_download", filename=attachment.filename) from error
    if not data:
        raise UserFacingError("attachment_empty", option=rule.option)
    if len(data) > rule.max_bytes:
        raise UserFacingError(
            "attachment_size", option=rule.option, size=_size(len(data)), limit=_size(rule.max_bytes)
        )
    if not rule.magic_ok(data):
        raise UserFacingError(
            "attachment_type", option=rule.option, expected=rule.expected, filename=attachment.filename
        )
    return data


async def store_upload(store: ArtifactStore, attachment: discord.Attachment, rule: UploadRule) -> str:
    """Download, check and store an upload; returns its artifact key for the job."""
    data = await fetch_checked(attachment, rule)
    content_type = (attachment.content_type or rule.content_types[0]).split(";")[0]
    ref = await asyncio.to_thread(store.put_input, attachment.filename, content_type, data)
    return ref.key
