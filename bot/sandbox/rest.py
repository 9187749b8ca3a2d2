"""Discord API v10 REST routes the sandbox serves to discord.py."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from bot.sandbox import http_utils as h
from bot.sandbox import interactions as ix
from bot.sandbox.core import SandboxCore
from bot.sandbox.messages import EPHEMERAL, LOADING
from bot.sandbox.middleware import API_PREFIX, FILES, PAYLOAD, json_body
from bot.sandbox.snowflake import snowflake_time_ms
from bot.sandbox.store import StoredMessage, UploadedFile

JSON = dict[str, Any]
TRUE_VALUES = ("1", "true", "True")
NONCE_WINDOW_S = 300


class RestApi:
    """Route handlers; state lives in :class:`SandboxCore`."""

    def __init__(self, core: SandboxCore, gateway_url: Any) -> None:
        self.core = core
        self._gateway_url = gateway_url

    def register(self, app: web.Application) -> None:
        routes = [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/users/{user_id}", self.get_user),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/applications/{app_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/commands", self.put_commands),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self.put_commands),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.interaction_callback),
            ("POST", "/webhooks/{app_id}/{token}", self.execute_webhook),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self.get_webhook_message),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self.edit_webhook_message),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}", self.delete_webhook_message),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("GET", "/channels/{channel_id}/messages", self.list_channel_messages),
            ("POST", "/channels/{channel_id}/messages", self.create_channel_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_channel_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_channel_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_channel_message),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, API_PREFIX + path, handler)

    # --- identity and gateway ----------------------------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        return h.json_response(dict(self.core.world.bot_user, verified=True, mfa_enabled=False))

    async def get_user(self, request: web.Request) -> web.Response:
        user = self.core.world.users.get(_int(request, "user_id"))
        return h.json_response(user) if user else h.error_response(404, 10013, "Unknown User")

    async def create_dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        channel = self.core.world.dm_channel_for(int(body.get("recipient_id", 0)))
        return (
            h.json_response(channel)
            if channel
            else h.error_response(400, 50007, "Cannot send messages to this user")
        )

    async def get_application(self, request: web.Request) -> web.Response:
        return h.json_response(self.core.world.application_payload())

    async def get_gateway(self, request: web.Request) -> web.Response:
        return h.json_response({"url": str(self._gateway_url())})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        body = {
            "url": str(self._gateway_url()),
            "shards": self.core.shard_count,
            "session_start_limit": limit,
        }
        return h.json_response(body)

    # --- application commands ----------------------------------------------------------------

    def _command_scope(self, request: web.Request) -> int | None:
        """The guild id of a guild-command route, None for global commands."""
        if _int(request, "app_id") != self.core.world.application_id:
            raise h.ApiError(403, 50001, "Missing Access")
        if "guild_id" not in request.match_info:
            return None
        guild_id = _int(request, "guild_id")
        if guild_id not in self.core.world.guilds:
            raise h.ApiError(404, 10004, "Unknown Guild")
        return guild_id

    async def get_commands(self, request: web.Request) -> web.Response:
        return h.json_response(self.core.commands.listing(self._command_scope(request)))

    async def put_commands(self, request: web.Request) -> web.Response:
        guild_id = self._command_scope(request)
        payload = request[PAYLOAD]
        if not isinstance(payload, list) or not all(isinstance(c, dict) and "name" in c for c in payload):
            raise h.ApiError(400, h.INVALID_FORM_BODY, "Invalid Form Body")
        return h.json_response(self.core.commands.overwrite(payload, guild_id))

    # --- interactions --------------------------------------------------------------------------

    async def interaction_callback(self, request: web.Request) -> web.Response:
        """The initial response: checked against the 3 s window and single-acknowledgement rule."""
        interaction_id, token = _int(request, "interaction_id"), request.match_info["token"]
        handle = _accepted(self.core.interactions.for_callback(interaction_id, token))
        body = json_body(request)
        files = request[FILES]
        self._check_sizes(files)
        kind = body.get("type")
        data = body.get("data") or {}
        message = await self._apply_response(handle, kind, data, files)
        handle.mark_responded(int(kind or 0), data)
        if request.query.get("with_response") not in TRUE_VALUES:
            return h.no_content()
        return h.json_response(self._callback_body(handle, int(kind or 0), message))

    async def _apply_response(
        self, handle: ix.InteractionHandle, kind: Any, data: JSON, files: tuple[UploadedFile, ...]
    ) -> StoredMessage | None:
        """Create or edit the message a callback type implies; refuse types that do not fit."""
        if kind == ix.CHANNEL_MESSAGE:
            return await self._interaction_message(handle, data, files)
        if kind == ix.DEFERRED_CHANNEL_MESSAGE:
            loading = {"flags": LOADING | (int(data.get("flags") or 0) & EPHEMERAL)}
            return await self._interaction_message(handle, loading, ())
        if kind in (ix.DEFERRED_UPDATE_MESSAGE, ix.UPDATE_MESSAGE):
            message = self._component_message(handle)
            if message is None:
                raise h.ApiError(400, h.INVALID_FORM_BODY, "Interaction has no message to update")
            handle.original_message_id = message.id
            if kind == ix.UPDATE_MESSAGE:
                await self.core.edit(message, data, files)
            return message
        if kind == ix.AUTOCOMPLETE_RESULT and handle.type != ix.AUTOCOMPLETE:
            raise h.ApiError(
                400, h.INVALID_FORM_BODY, "Autocomplete result for a non-autocomplete interaction"
            )
        if kind not in (ix.PONG, ix.AUTOCOMPLETE_RESULT, ix.MODAL, ix.LAUNCH_ACTIVITY):
            raise h.ApiError(400, h.INVALID_FORM_BODY, f"Invalid interaction response type {kind!r}")
        return None

    def _callback_body(self, handle: ix.InteractionHandle, kind: int, message: StoredMessage | None) -> JSON:
        """``?with_response`` body: the interaction, plus the message resource when one was made."""
        interaction: JSON = {"id": str(handle.id), "type": handle.type}
        body: JSON = {"interaction": interaction}
        if message is not None and kind != ix.DEFERRED_UPDATE_MESSAGE:
            flags = message.data.get("flags", 0)
            interaction["response_message_id"] = str(message.id)
            interaction["response_message_loading"] = bool(flags & LOADING)
            interaction["response_message_ephemeral"] = bool(flags & EPHEMERAL)
            body["resource"] = {"type": kind, "message": message.data}
        return body

    def _component_message(self, handle: ix.InteractionHandle) -> StoredMessage | None:
        message = handle.payload.get("message")
        return self.core.messages.get(int(message["id"])) if message else None

    def _metadata(self, handle: ix.InteractionHandle) -> JSON:
        payload = handle.payload
        user = payload["member"]["user"] if "member" in payload else payload["user"]
        metadata: JSON = {
            "id": str(handle.id),
            "type": handle.type,
            "user": user,
            "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
        }
        if handle.type == ix.APPLICATION_COMMAND:
            metadata["name"] = payload["data"]["name"]
        if handle.type == ix.MESSAGE_COMPONENT:
            metadata["interacted_message_id"] = payload["message"]["id"]
        if handle.original_message_id is not None:
            metadata["original_response_message_id"] = str(handle.original_message_id)
        return metadata

    async def _interaction_message(
        self, handle: ix.InteractionHandle, data: JSON, files: Any
    ) -> StoredMessage:
        is_original = handle.original_message_id is None and not handle.responded
        message = self.core.factory.create(
            channel_id=handle.channel_id,
            guild_id=handle.guild_id,
            author=self.core.world.bot_user,
            payload=data,
            files=files,
            webhook_id=self.core.world.application_id,
            interaction=self._metadata(handle),
            message_type=20 if is_original and handle.type == ix.APPLICATION_COMMAND else 0,
        )
        if is_original:
            handle.original_message_id = message.id
        else:
            handle.followup_ids.append(message.id)
        return await self.core.publish(message)

    # --- webhooks (followups and @original) ----------------------------------------------------

    def _webhook_handle(self, request: web.Request) -> ix.InteractionHandle:
        found = self.core.interactions.for_webhook(
            _int(request, "app_id"), request.match_info["token"], self.core.world.application_id
        )
        return _accepted(found)

    def _webhook_message(self, request: web.Request) -> StoredMessage:
        handle = self._webhook_handle(request)
        raw = request.match_info["message_id"]
        message_id = handle.original_message_id if raw == "@original" else int(raw) if raw.isdigit() else None
        allowed = {handle.original_message_id, *handle.followup_ids}
        message = self.core.messages.get(message_id) if message_id and message_id in allowed else None
        if message is None:
            raise h.ApiError(404, h.UNKNOWN_MESSAGE, "Unknown Message")
        return message

    def _check_sizes(self, files: tuple[UploadedFile, ...]) -> None:
        if self.core.oversized(files):
            raise h.ApiError(413, h.ENTITY_TOO_LARGE, "Request entity too large")

    async def execute_webhook(self, request: web.Request) -> web.Response:
        handle = self._webhook_handle(request)
        files = request[FILES]
        self._check_sizes(files)
        payload = json_body(request)
        _require_content(payload, files)
        original = self.core.messages.get(handle.original_message_id or 0)
        if original is not None and original.data.get("flags", 0) & LOADING:
            # The first followup after a "thinking" defer replaces the loading message.
            message = await self.core.edit(original, payload, files)
        else:
            message = await self._interaction_message(handle, payload, files)
        if request.query.get("wait") in TRUE_VALUES:
            return h.json_response(message.data)
        return h.no_content()

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        return h.json_response(self._webhook_message(request).data)

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        message = self._webhook_message(request)
        self._check_sizes(request[FILES])
        await self.core.edit(message, json_body(request), request[FILES])
        return h.json_response(message.data)

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        await self.core.delete(self._webhook_message(request))
        return h.no_content()

    # --- channels ------------------------------------------------------------------------------

    def _channel_id(self, request: web.Request) -> int:
        channel_id = _int(request, "channel_id")
        if channel_id not in self.core.world.channels:
            raise h.ApiError(404, h.UNKNOWN_CHANNEL, "Unknown Channel")
        if channel_id in self.core.world.closed_channels:
            raise h.ApiError(403, h.MISSING_ACCESS, "Missing Access")
        return channel_id

    def _channel_message(self, request: web.Request) -> StoredMessage:
        message = self.core.messages.get(_int(request, "message_id"))
        if message is None or message.channel_id != self._channel_id(request):
            raise h.ApiError(404, h.UNKNOWN_MESSAGE, "Unknown Message")
        return message

    async def get_channel(self, request: web.Request) -> web.Response:
        return h.json_response(self.core.world.channels[self._channel_id(request)])

    async def list_channel_messages(self, request: web.Request) -> web.Response:
        """Newest first, like Discord; ephemeral messages are not part of channel history."""
        messages = self.core.messages.in_channel(self._channel_id(request))
        visible = [m.data for m in messages if not m.data.get("flags", 0) & EPHEMERAL]
        limit = min(int(request.query.get("limit", "50")), 100)
        return h.json_response(list(reversed(visible))[:limit])

    async def create_channel_message(self, request: web.Request) -> web.Response:
        channel_id = self._channel_id(request)
        files = request[FILES]
        self._check_sizes(files)
        payload = json_body(request)
        _require_content(payload, files)
        repeated = self._same_nonce(channel_id, payload)
        if repeated is not None:  # enforce_nonce: Discord returns the earlier message, posts nothing
            return h.json_response(repeated.data)
        reference = payload.get("message_reference")
        message = self.core.factory.create(
            channel_id=channel_id,
            guild_id=self.core.world.guild_of_channel(channel_id),
            author=self.core.world.bot_user,
            payload=payload,
            files=files,
            message_type=19 if reference else 0,
        )
        if reference:
            message.data["message_reference"] = reference
        await self.core.publish(message)
        return h.json_response(message.data)

    def _same_nonce(self, channel_id: int, payload: JSON) -> StoredMessage | None:
        """With `enforce_nonce`, the bot's message in this channel with the same nonce from the last
        few minutes (Discord keeps nonces for "the past few minutes"; the sandbox uses 5)."""
        nonce = payload.get("nonce")
        if not payload.get("enforce_nonce") or nonce is None:
            return None
        horizon = time.time() - NONCE_WINDOW_S
        for message in reversed(self.core.messages.in_channel(channel_id)):
            data = message.data
            if (
                str(data.get("nonce")) == str(nonce)
                and int(data["author"]["id"]) == self.core.world.bot_user_id
                and snowflake_time_ms(message.id) / 1000 >= horizon
            ):
                return message
        return None

    async def get_channel_message(self, request: web.Request) -> web.Response:
        return h.json_response(self._channel_message(request).data)

    async def edit_channel_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if int(message.data["author"]["id"]) != self.core.world.bot_user_id:
            raise h.ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._check_sizes(request[FILES])
        await self.core.edit(message, json_body(request), request[FILES])
        return h.json_response(message.data)

    async def delete_channel_message(self, request: web.Request) -> web.Response:
        await self.core.delete(self._channel_message(request))
        return h.no_content()


def _int(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    return int(raw)


def _accepted(found: ix.InteractionHandle | ix.Rejection) -> ix.InteractionHandle:
    if isinstance(found, ix.Rejection):
        raise h.ApiError(found.status, found.code, found.message)
    return found


def _require_content(payload: JSON, files: tuple[UploadedFile, ...]) -> None:
    if not (payload.get("content") or payload.get("embeds") or payload.get("components") or files):
        raise h.ApiError(400, 50006, "Cannot send an empty message")
