"""Building and editing message payloads the way Discord renders them, attachments included."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from bot.sandbox.message_limits import check_message
from bot.sandbox.snowflake import SnowflakeFactory
from bot.sandbox.store import AttachmentStore, StoredAttachment, StoredMessage, UploadedFile
from bot.sandbox.world import iso_now

JSON = dict[str, Any]

EPHEMERAL = 1 << 6
LOADING = 1 << 7
SETTABLE_FIELDS = ("content", "embeds", "components", "tts", "poll", "sticker_ids", "nonce")
USER_MENTION = re.compile(r"<@!?(\d+)>")


def apply_mentions(data: JSON, allowed: JSON | None, users: Mapping[int, JSON]) -> None:
    """Fill ``mentions``/``mention_everyone`` from the content, as ``allowed_mentions`` permits."""
    content = str(data.get("content") or "")
    parse = ["users", "roles", "everyone"] if allowed is None else list(allowed.get("parse") or [])
    listed = set() if allowed is None else {int(u) for u in allowed.get("users") or []}
    mentioned: dict[int, JSON] = {}
    for raw in USER_MENTION.findall(content):
        user_id = int(raw)
        if user_id in users and ("users" in parse or user_id in listed):
            mentioned.setdefault(user_id, users[user_id])
    data["mentions"] = list(mentioned.values())
    data["mention_everyone"] = "everyone" in parse and ("@everyone" in content or "@here" in content)


class MessageFactory:
    """Turns request payloads and uploaded files into stored, Discord-shaped messages."""

    def __init__(
        self,
        ids: SnowflakeFactory,
        attachments: AttachmentStore,
        public_base: Callable[[], str],
        users: Mapping[int, JSON],
    ) -> None:
        self._ids = ids
        self._users = users
        self._attachments = attachments
        self._public_base = public_base

    def attachment(
        self, filename: str, data: bytes, content_type: str, description: str | None = None
    ) -> JSON:
        """Keep the bytes and return an attachment object whose ``url`` serves them."""
        stored = self._attachments.put(StoredAttachment(self._ids.next(), filename, content_type, data))
        url = f"{self._public_base()}/_sandbox/attachments/{stored.id}/{quote(filename)}"
        payload: JSON = {
            "id": str(stored.id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
            "flags": 0,
        }
        if description:
            payload["description"] = description
        return payload

    def create(
        self,
        *,
        channel_id: int,
        guild_id: int | None,
        author: JSON,
        payload: JSON,
        files: tuple[UploadedFile, ...],
        webhook_id: int | None = None,
        interaction: JSON | None = None,
        message_type: int = 0,
    ) -> StoredMessage:
        check_message(payload)
        data: JSON = {
            "id": str(self._ids.next()),
            "type": message_type,
            "channel_id": str(channel_id),
            "author": author,
            "content": "",
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._new_attachments(payload, files),
            "embeds": [],
            "components": [],
            "pinned": False,
            "flags": int(payload.get("flags") or 0),
        }
        data.update({k: copy.deepcopy(payload[k]) for k in SETTABLE_FIELDS if k in payload})
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        if webhook_id is not None:
            data["webhook_id"] = str(webhook_id)
            data["application_id"] = str(webhook_id)
        if interaction is not None:
            data["interaction_metadata"] = interaction
        interaction_id = int(interaction["id"]) if interaction else None
        apply_mentions(data, payload.get("allowed_mentions"), self._users)
        return StoredMessage(data, payload.get("allowed_mentions"), interaction_id)

    def edit_changes(self, current: JSON, payload: JSON, files: tuple[UploadedFile, ...]) -> JSON:
        """The fields an edit request changes, attachments resolved against the current ones."""
        check_message({**payload, "flags": payload.get("flags", current.get("flags"))})
        changes: JSON = {k: copy.deepcopy(payload[k]) for k in SETTABLE_FIELDS if k in payload}
        flags = int(current.get("flags") or 0)
        if "flags" in payload:
            flags = int(payload["flags"] or 0) | (flags & EPHEMERAL)
        if flags != current.get("flags") or flags & LOADING:
            changes["flags"] = flags & ~LOADING
        if "attachments" in payload or files:
            listed = payload["attachments"] if "attachments" in payload else current["attachments"]
            keep_ids = {str(a.get("id")) for a in listed or []}
            kept = [a for a in current["attachments"] if a["id"] in keep_ids]
            changes["attachments"] = kept + self._new_attachments(payload, files)
        changes["edited_timestamp"] = iso_now()
        return changes

    def _new_attachments(self, payload: JSON, files: tuple[UploadedFile, ...]) -> list[JSON]:
        described = {str(a.get("id")): a for a in payload.get("attachments") or []}
        result = []
        for index, upload in enumerate(files):
            slot = (
                upload.field.removeprefix("files[").removesuffix("]")
                if upload.field.startswith("files[")
                else index
            )
            meta = described.get(str(slot), {})
            result.append(
                self.attachment(
                    meta.get("filename") or upload.filename,
                    upload.data,
                    upload.content_type,
                    meta.get("description"),
                )
            )
        return result
