"""What the sandbox remembers: every request, uploaded files, and each channel's messages."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.waiting import Changes

JSON = dict[str, Any]


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request (``files[n]``)."""

    field: str
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class RecordedRequest:
    """One HTTP request as the bot sent it; ``path`` is relative to the API base."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: tuple[UploadedFile, ...]
    timestamp: float
    status: int = 0
    error_code: int | None = None


@dataclass
class StoredMessage:
    """A message as a user would see it, plus sandbox-side facts about it."""

    data: JSON
    allowed_mentions: JSON | None = None
    interaction_id: int | None = None
    deleted: bool = False

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def channel_id(self) -> int:
        return int(self.data["channel_id"])


@dataclass(frozen=True)
class StoredAttachment:
    id: int
    filename: str
    content_type: str
    data: bytes


class MessageStore:
    """Messages per channel, with edits applied; waiters are woken on every change."""

    def __init__(self) -> None:
        self._by_id: dict[int, StoredMessage] = {}
        self._order: list[int] = []
        self.changes = Changes()

    def add(self, message: StoredMessage) -> StoredMessage:
        self._by_id[message.id] = message
        self._order.append(message.id)
        self._notify()
        return message

    def get(self, message_id: int) -> StoredMessage | None:
        message = self._by_id.get(message_id)
        return None if message is None or message.deleted else message

    def update(self, message_id: int, changes: JSON) -> StoredMessage | None:
        message = self.get(message_id)
        if message is None:
            return None
        message.data.update(changes)
        self._notify()
        return message

    def delete(self, message_id: int) -> StoredMessage | None:
        message = self.get(message_id)
        if message is not None:
            message.deleted = True
            self._notify()
        return message

    def in_channel(self, channel_id: int | None = None) -> list[StoredMessage]:
        """Live messages, oldest first; all channels when ``channel_id`` is None."""
        found = (self._by_id[mid] for mid in self._order)
        return [m for m in found if not m.deleted and (channel_id is None or m.channel_id == channel_id)]

    def _notify(self) -> None:
        self.changes.notify()

    async def wait_for(self, predicate: Callable[[JSON], bool], timeout: float) -> JSON:
        """Wait until a live message satisfies ``predicate``; return a copy of its payload."""

        def find() -> JSON | None:
            for message in self.in_channel():
                if predicate(message.data):
                    return copy.deepcopy(message.data)
            return None

        return await self.changes.wait_until(find, timeout)


@dataclass
class AttachmentStore:
    """Bytes behind every attachment URL the sandbox hands out."""

    items: dict[int, StoredAttachment] = field(default_factory=dict)

    def put(self, attachment: StoredAttachment) -> StoredAttachment:
        self.items[attachment.id] = attachment
        return attachment

    def get(self, attachment_id: int) -> StoredAttachment | None:
        return self.items.get(attachment_id)
