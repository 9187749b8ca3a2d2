"""What the test member can do: run slash commands, autocomplete, click buttons, post and upload."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bot.sandbox import interaction_payloads as ip
from bot.sandbox.commands import ATTACHMENT, OptionResolvers, command_options
from bot.sandbox.core import SandboxCore
from bot.sandbox.interactions import InteractionHandle, new_token

JSON = dict[str, Any]
AttachmentInput = JSON | tuple[str, bytes] | tuple[str, bytes, str]


class UserActions:
    """Builds interactions from the synced command schema and sends them through the gateway."""

    def __init__(self, core: SandboxCore) -> None:
        self.core = core
        self.world = core.world

    def upload(self, filename: str, data: bytes, content_type: str = "application/octet-stream") -> JSON:
        """Store bytes and return an attachment object served at ``/_sandbox/attachments/...``."""
        return self.core.factory.attachment(filename, data, content_type)

    async def command(
        self,
        name: str,
        options: Mapping[str, Any] | None,
        *,
        user: int | None = None,
        channel: int | None = None,
        guild: bool = True,
        locale: str = "en-US",
        focused: str | None = None,
        validate: bool = True,
    ) -> InteractionHandle:
        """A slash command (``"group sub"`` for subcommands); autocomplete when ``focused`` names an option.

        ``validate=False`` skips the synced schema's option checks, as a modified client would."""
        if channel is not None:
            channel_id = channel
        else:
            channel_id = self.world.default_channel_id if guild else self.world.dm_channel_id
        guild_id = self.world.guild_of_channel(channel_id)
        root, *path = name.split()
        command = self.core.commands.find(root, guild_id)
        resolved: JSON = {}
        built = command_options(
            command, path, dict(options or {}), self._resolvers(guild_id, user), resolved, validate=validate
        )
        if focused is not None:
            _mark_focused(built, focused)
        payload = self._base(user, channel_id, locale)
        data = ip.command_data(command, built, resolved)
        return await self._deliver(ip.with_command(payload, data, autocomplete=focused is not None))

    async def click(self, message_id: int, custom_id: str, *, user: int | None = None) -> InteractionHandle:
        """Click the button ``custom_id`` on a stored message."""
        stored = self.core.messages.get(message_id)
        if stored is None:
            raise LookupError(f"message {message_id} is not in the sandbox")
        found = ip.find_custom_ids(stored.data.get("components", []))
        if custom_id not in found:
            raise LookupError(f"message {message_id} has no component {custom_id!r}; it has {found}")
        payload = self._base(user, stored.channel_id)
        return await self._deliver(ip.with_button(payload, copy.deepcopy(stored.data), custom_id))

    async def post(self, content: str, *, channel: int | None = None, user: int | None = None) -> JSON:
        """A human posts in a channel (MESSAGE_CREATE for bots with the messages intent)."""
        channel_id = self.world.default_channel_id if channel is None else channel
        if channel_id not in self.world.channels:
            raise LookupError(f"unknown channel {channel_id}")
        message = self.core.factory.create(
            channel_id=channel_id,
            guild_id=self.world.guild_of_channel(channel_id),
            author=self.world.users[self.world.test_member_id if user is None else user],
            payload={"content": content},
            files=(),
        )
        await self.core.publish(message)
        return copy.deepcopy(message.data)

    def _base(self, user: int | None, channel_id: int, locale: str = "en-US") -> JSON:
        if channel_id not in self.world.channels:
            raise LookupError(f"unknown channel {channel_id}")
        return ip.base_payload(
            self.world,
            interaction_id=self.core.ids.next(),
            token=new_token(),
            kind=0,
            user_id=self.world.test_member_id if user is None else user,
            channel_id=channel_id,
            attachment_size_limit=self.core.rules.attachment_size_limit,
            locale=locale,
        )

    async def _deliver(self, payload: JSON) -> InteractionHandle:
        guild = payload.get("guild_id")
        user = payload["member"]["user"] if "member" in payload else payload["user"]
        handle = InteractionHandle(
            id=int(payload["id"]),
            token=payload["token"],
            type=payload["type"],
            channel_id=int(payload["channel_id"]),
            guild_id=int(guild) if guild else None,
            user_id=int(user["id"]),
            created_at=self.core.rules.clock(),
            payload=payload,
        )
        self.core.interactions.add(handle)
        await self.core.gateway.dispatch("INTERACTION_CREATE", payload, guild_id=handle.guild_id)
        return handle

    def _resolvers(self, guild_id: int | None, user: int | None = None) -> OptionResolvers:
        world = self.world
        asking = user if user is not None else world.test_member_id

        def channel(channel_id: int) -> JSON | None:
            if channel_id not in world.channels:
                return None
            found = dict(world.channels[channel_id])
            if guild_id is not None:  # resolved channels carry the member's permissions in them
                found["permissions"] = world.permissions_of(guild_id, asking)
            return found

        def member(user_id: int) -> JSON | None:
            if guild_id is None or user_id not in world.guilds[guild_id].member_ids:
                return None
            return world.member_payload(guild_id, user_id, with_permissions=True)

        def role(role_id: int) -> JSON | None:
            return world.role_payload(guild_id, role_id) if guild_id is not None else None

        def attachment(value: Any) -> JSON:
            if isinstance(value, dict):
                return value
            filename, data, *rest = value
            return self.upload(filename, data, rest[0] if rest else "application/octet-stream")

        return OptionResolvers(
            user=world.users.get,
            member=member,
            channel=channel,
            role=role,
            attachment=attachment,
        )


def _mark_focused(options: list[JSON], focused: str) -> None:
    for option in options:
        if "options" in option:
            _mark_focused(option["options"], focused)
        elif option["name"] == focused:
            if option["type"] == ATTACHMENT:
                raise ValueError("attachment options cannot be focused")
            option["focused"] = True
