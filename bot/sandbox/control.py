"""A small JSON control API (``/_sandbox/...``) so other processes can drive a running sandbox."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

from aiohttp import web

from bot.sandbox import http_utils as h
from bot.sandbox.commands import OptionError, UnknownCommand
from bot.sandbox.facade import SandboxFacade
from bot.sandbox.interactions import InteractionHandle

JSON = dict[str, Any]
PREFIX = "/_sandbox"


class ControlApi:
    """Routes under ``/_sandbox``; every body is JSON unless noted."""

    def __init__(self, server: SandboxFacade) -> None:
        self.server = server

    def register(self, app: web.Application) -> None:
        router = app.router
        router.add_get(PREFIX + "/state", self.state)
        router.add_post(PREFIX + "/interactions", self.send_interaction)
        router.add_get(PREFIX + "/interactions/{interaction_id}", self.get_interaction)
        router.add_post(PREFIX + "/buttons", self.click_button)
        router.add_post(PREFIX + "/selects", self.choose_in_select)
        router.add_post(PREFIX + "/modals", self.submit_modal)
        router.add_get(PREFIX + "/messages", self.list_messages)
        router.add_post(PREFIX + "/messages", self.post_message)
        router.add_get(PREFIX + "/requests", self.list_requests)
        router.add_post(PREFIX + "/attachments", self.upload_attachment)
        router.add_get(PREFIX + "/attachments/{attachment_id}/{filename}", self.get_attachment)
        router.add_post(PREFIX + "/faults", self.add_fault)
        router.add_post(PREFIX + "/gateway/{action}", self.gateway_action)

    async def state(self, request: web.Request) -> web.Response:
        """Ids and addresses: what a client needs to address the sandbox."""
        server = self.server
        return h.json_response(
            {
                "page_url": server.page_url,
                "api_base": server.api_base,
                "gateway_url": server.gateway_url,
                "application_id": str(server.application_id),
                "bot_user_id": str(server.bot_user_id),
                "guild_id": str(server.guild_id),
                "channel_id": str(server.channel_id),
                "dm_channel_id": str(server.dm_channel_id),
                "member_id": str(server.member_id),
                "guilds": [str(g) for g in server.world.guilds],
                "channels": list(server.world.channels.values()),
                "commands": {"global": server.commands(), "guild": server.commands(server.guild_id)},
                "sessions": len(server.gateway.live_sessions()),
            }
        )

    async def send_interaction(self, request: web.Request) -> web.Response:
        """``{"name", "options"?, "channel_id"?, "user_id"?, "dm"?, "wait"?: seconds}`` → the interaction."""
        body = await _json(request)
        try:
            handle = await self.server.send_slash_command(
                str(body["name"]),
                body.get("options") or {},
                user=_opt_int(body.get("user_id")),
                channel=_opt_int(body.get("channel_id")),
                guild=not body.get("dm", False),
            )
        except KeyError as exc:
            return h.error_response(400, h.INVALID_FORM_BODY, f"missing field {exc}")
        except (UnknownCommand, OptionError, LookupError) as exc:
            return h.error_response(400, h.INVALID_FORM_BODY, str(exc))
        wait = float(body.get("wait") or 0)
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await self.server.wait_for_response(handle, wait)
        return h.json_response(_handle_json(handle))

    async def get_interaction(self, request: web.Request) -> web.Response:
        handle = self.server.core.interactions.get(int(request.match_info["interaction_id"]))
        if handle is None:
            return h.error_response(404, h.UNKNOWN_INTERACTION, "Unknown interaction")
        return h.json_response(_handle_json(handle))

    async def click_button(self, request: web.Request) -> web.Response:
        """``{"message_id", "custom_id", "user_id"?}`` → the interaction."""
        body = await _json(request)
        try:
            handle = await self.server.click_button(
                int(body["message_id"]), str(body["custom_id"]), user=_opt_int(body.get("user_id"))
            )
        except (KeyError, LookupError) as exc:
            return h.error_response(400, h.INVALID_FORM_BODY, str(exc))
        return h.json_response(_handle_json(handle))

    async def choose_in_select(self, request: web.Request) -> web.Response:
        """``{"message_id", "custom_id", "values", "user_id"?}`` → the interaction."""
        body = await _json(request)
        try:
            handle = await self.server.choose_in_select(
                int(body["message_id"]),
                str(body["custom_id"]),
                [str(v) for v in body.get("values") or []],
                user=_opt_int(body.get("user_id")),
            )
        except (KeyError, LookupError, ValueError) as exc:
            return h.error_response(400, h.INVALID_FORM_BODY, str(exc))
        return h.json_response(_handle_json(handle))

    async def submit_modal(self, request: web.Request) -> web.Response:
        """``{"interaction_id" (the one the bot answered with a modal), "values", "user_id"?}`` → the submit."""
        body = await _json(request)
        opened = self.server.core.interactions.get(int(body.get("interaction_id") or 0))
        if opened is None:
            return h.error_response(404, h.UNKNOWN_INTERACTION, "Unknown interaction")
        values = body.get("values") or {}
        try:
            handle = await self.server.submit_modal(opened, values, user=_opt_int(body.get("user_id")))
        except (LookupError, ValueError, AttributeError) as exc:
            return h.error_response(400, h.INVALID_FORM_BODY, str(exc))
        return h.json_response(_handle_json(handle))

    async def list_messages(self, request: web.Request) -> web.Response:
        """``?channel_id=`` (default channel when absent) → messages, oldest first."""
        return h.json_response(self.server.messages(_opt_int(request.query.get("channel_id"))))

    async def post_message(self, request: web.Request) -> web.Response:
        """``{"content", "channel_id"?, "user_id"?}``: a human posts a message."""
        body = await _json(request)
        message = await self.server.post_user_message(
            str(body.get("content", "")),
            channel=_opt_int(body.get("channel_id")),
            user=_opt_int(body.get("user_id")),
        )
        return h.json_response(message)

    async def list_requests(self, request: web.Request) -> web.Response:
        """Recorded REST requests; file bytes are summarised as name and size."""
        records = []
        for record in self.server.requests:
            item = dataclasses.asdict(record)
            item["files"] = [{"field": f.field, "filename": f.filename, "size": f.size} for f in record.files]
            records.append(item)
        return h.json_response(records)

    async def upload_attachment(self, request: web.Request) -> web.Response:
        """Raw body, ``?filename=`` and ``Content-Type`` → an attachment object to pass as an option."""
        filename = request.query.get("filename")
        if not filename:
            return h.error_response(400, h.INVALID_FORM_BODY, "filename query parameter is required")
        data = await request.read()
        return h.json_response(self.server.upload_attachment(filename, data, request.content_type))

    async def get_attachment(self, request: web.Request) -> web.StreamResponse:
        stored = self.server.core.attachments.get(int(request.match_info["attachment_id"]))
        if stored is None or stored.filename != request.match_info["filename"]:
            return h.error_response(404, 0, "404: Not Found")
        return web.Response(body=stored.data, content_type=stored.content_type)

    async def add_fault(self, request: web.Request) -> web.Response:
        """``{"route", "status"?, "count"?, "retry_after"?, "global"?}``; status 429 means a rate limit."""
        body = await _json(request)
        route = str(body.get("route", ""))
        status = int(body.get("status", 500))
        count = int(body.get("count", 1))
        if status == 429:
            self.server.rate_limit(
                route, float(body.get("retry_after", 1.0)), count, is_global=bool(body.get("global"))
            )
        else:
            try:
                self.server.inject_failures(route, status, count)
            except ValueError as exc:
                return h.error_response(400, h.INVALID_FORM_BODY, str(exc))
        return h.json_response({"route": route, "status": status, "count": count})

    async def gateway_action(self, request: web.Request) -> web.Response:
        """``drop``, ``reconnect`` or ``invalidate``; optional ``{"shard_id", "resumable"}``."""
        body = await _json(request) if request.can_read_body else {}
        shard = _opt_int(body.get("shard_id"))
        action = request.match_info["action"]
        if action == "drop":
            affected = await self.server.drop_gateway(shard)
        elif action == "reconnect":
            affected = await self.server.send_reconnect(shard)
        elif action == "invalidate":
            affected = await self.server.invalidate_session(shard, resumable=bool(body.get("resumable")))
        else:
            return h.error_response(404, 0, f"unknown gateway action {action!r}")
        return h.json_response({"action": action, "sessions": affected})


async def _json(request: web.Request) -> JSON:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _opt_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _handle_json(handle: InteractionHandle) -> JSON:
    return {
        "id": str(handle.id),
        "token": handle.token,
        "type": handle.type,
        "channel_id": str(handle.channel_id),
        "guild_id": str(handle.guild_id) if handle.guild_id else None,
        "responded": handle.responded,
        "response_type": handle.response_type,
        "original_message_id": str(handle.original_message_id) if handle.original_message_id else None,
        "followup_ids": [str(i) for i in handle.followup_ids],
        "rejections": [dataclasses.asdict(r) for r in handle.rejections],
    }


__all__ = ["ControlApi"]
