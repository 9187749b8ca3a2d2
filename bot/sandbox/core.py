"""Shared sandbox state and the message lifecycle (store + gateway events) used by REST and control."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.commands import CommandRegistry
from bot.sandbox.gateway import Gateway
from bot.sandbox.interactions import InteractionRegistry
from bot.sandbox.messages import EPHEMERAL, MessageFactory, apply_mentions
from bot.sandbox.rules import FaultInjector, SandboxRules
from bot.sandbox.snowflake import SnowflakeFactory
from bot.sandbox.store import AttachmentStore, MessageStore, RecordedRequest, StoredMessage, UploadedFile
from bot.sandbox.world import World

JSON = dict[str, Any]

GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12


@dataclass
class SandboxCore:
    """Everything the REST, gateway and control layers share."""

    ids: SnowflakeFactory
    world: World
    rules: SandboxRules
    gateway: Gateway
    factory: MessageFactory
    attachments: AttachmentStore
    commands: CommandRegistry
    interactions: InteractionRegistry
    messages: MessageStore = field(default_factory=MessageStore)
    faults: FaultInjector = field(default_factory=FaultInjector)
    requests: list[RecordedRequest] = field(default_factory=list)
    shard_count: int = 1

    def oversized(self, files: tuple[UploadedFile, ...]) -> UploadedFile | None:
        """The first file above the per-file limit, if any."""
        return next((f for f in files if f.size > self.rules.attachment_size_limit), None)

    async def publish(self, message: StoredMessage) -> StoredMessage:
        """Store a new message and, unless ephemeral, send MESSAGE_CREATE."""
        self.messages.add(message)
        self.world_channel_touch(message)
        await self._dispatch("MESSAGE_CREATE", message)
        return message

    async def edit(
        self, message: StoredMessage, payload: JSON, files: tuple[UploadedFile, ...]
    ) -> StoredMessage:
        self.messages.update(message.id, self.factory.edit_changes(message.data, payload, files))
        if "allowed_mentions" in payload:
            message.allowed_mentions = payload["allowed_mentions"]
        if "content" in payload or "allowed_mentions" in payload:
            apply_mentions(message.data, message.allowed_mentions, self.world.users)
        await self._dispatch("MESSAGE_UPDATE", message)
        return message

    async def delete(self, message: StoredMessage) -> None:
        self.messages.delete(message.id)
        if not message.data.get("flags", 0) & EPHEMERAL:
            data = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if "guild_id" in message.data:
                data["guild_id"] = message.data["guild_id"]
            await self._dispatch_raw("MESSAGE_DELETE", data, message)

    def world_channel_touch(self, message: StoredMessage) -> None:
        channel = self.world.channels.get(message.channel_id)
        if channel is not None:
            channel["last_message_id"] = str(message.id)

    async def _dispatch(self, event: str, message: StoredMessage) -> None:
        if message.data.get("flags", 0) & EPHEMERAL:
            return
        data = copy.deepcopy(message.data)
        if "guild_id" in data:
            author_id = int(data["author"]["id"])
            guild_id = int(data["guild_id"])
            if author_id in self.world.guilds[guild_id].member_ids:
                member = self.world.member_payload(guild_id, author_id)
                data["member"] = {k: v for k, v in member.items() if k != "user"}
        await self._dispatch_raw(event, data, message)

    async def _dispatch_raw(self, event: str, data: JSON, message: StoredMessage) -> None:
        guild = message.data.get("guild_id")
        guild_id = int(guild) if guild is not None else None
        intent = GUILD_MESSAGES if guild_id is not None else DIRECT_MESSAGES
        await self.gateway.dispatch(event, data, guild_id=guild_id, intent=intent)
