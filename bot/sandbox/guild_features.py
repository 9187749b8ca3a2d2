"""Scheduled events and forum posts on the sandbox's guilds, as discord.py calls them.

- `POST/GET/PATCH/DELETE /guilds/{guild_id}/scheduled-events[/{event_id}]` (external events, which
  need a location and an end time, as on Discord), with GUILD_SCHEDULED_EVENT_* gateway events.
- `POST /channels/{forum_id}/threads`: a forum post, a thread whose first message is the body; the
  thread is a channel of its own where the bot's buttons work as anywhere else.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox import http_utils as h
from bot.sandbox.core import SandboxCore
from bot.sandbox.gateway import Gateway
from bot.sandbox.middleware import API_PREFIX, FILES, json_body
from bot.sandbox.world import iso_now

JSON = dict[str, Any]
CHANNEL_FORUM = 15
CHANNEL_PUBLIC_THREAD = 11
GUILD_SCHEDULED_EVENTS = 1 << 16


class GuildFeaturesApi:
    def __init__(self, core: SandboxCore, gateway: Gateway) -> None:
        self.core = core
        self.gateway = gateway
        self.events: dict[int, dict[int, JSON]] = {}
        """Scheduled events by guild and id."""

    def register(self, app: web.Application) -> None:
        base = API_PREFIX + "/guilds/{guild_id}/scheduled-events"
        app.router.add_route("GET", base, self.list_events)
        app.router.add_route("POST", base, self.create_event)
        app.router.add_route("GET", base + "/{event_id}", self.get_event)
        app.router.add_route("PATCH", base + "/{event_id}", self.edit_event)
        app.router.add_route("DELETE", base + "/{event_id}", self.delete_event)
        app.router.add_route("POST", API_PREFIX + "/channels/{channel_id}/threads", self.create_thread)

    # --- scheduled events -------------------------------------------------------------------------

    async def list_events(self, request: web.Request) -> web.Response:
        return h.json_response(list(self._events(request).values()))

    async def get_event(self, request: web.Request) -> web.Response:
        return h.json_response(self._event(request))

    async def create_event(self, request: web.Request) -> web.Response:
        guild_id = int(request.match_info["guild_id"])
        events = self._events(request)
        body = json_body(request)
        for field in ("name", "scheduled_start_time", "entity_type", "privacy_level"):
            if field not in body:
                raise h.ApiError(400, 50035, f"Invalid Form Body: {field} is required")
        if body["entity_type"] == 3 and (
            not body.get("scheduled_end_time") or not (body.get("entity_metadata") or {}).get("location")
        ):
            raise h.ApiError(
                400, 50035, "Invalid Form Body: an external event needs a location and an end time"
            )
        if len(events) >= 100:
            raise h.ApiError(400, 30038, "Maximum number of guild scheduled events reached (100)")
        event_id = self.core.ids.next()
        event = {
            "id": str(event_id),
            "guild_id": str(guild_id),
            "channel_id": body.get("channel_id"),
            "creator_id": str(self.core.world.bot_user_id),
            "creator": self.core.world.bot_user,
            "name": body["name"],
            "description": body.get("description"),
            "scheduled_start_time": body["scheduled_start_time"],
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": body["privacy_level"],
            "status": 1,
            "entity_type": body["entity_type"],
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "user_count": 0,
            "image": None,
            "recurrence_rule": None,
        }
        events[event_id] = event
        await self.gateway.dispatch(
            "GUILD_SCHEDULED_EVENT_CREATE", event, guild_id=guild_id, intent=GUILD_SCHEDULED_EVENTS
        )
        return h.json_response(event)

    async def edit_event(self, request: web.Request) -> web.Response:
        event = self._event(request)
        body = json_body(request)
        for field in (
            "name",
            "description",
            "scheduled_start_time",
            "scheduled_end_time",
            "status",
            "entity_metadata",
        ):
            if field in body:
                event[field] = body[field]
        await self.gateway.dispatch(
            "GUILD_SCHEDULED_EVENT_UPDATE",
            event,
            guild_id=int(event["guild_id"]),
            intent=GUILD_SCHEDULED_EVENTS,
        )
        return h.json_response(event)

    async def delete_event(self, request: web.Request) -> web.Response:
        event = self._event(request)
        del self._events(request)[int(event["id"])]
        await self.gateway.dispatch(
            "GUILD_SCHEDULED_EVENT_DELETE",
            event,
            guild_id=int(event["guild_id"]),
            intent=GUILD_SCHEDULED_EVENTS,
        )
        return web.Response(status=204)

    def _events(self, request: web.Request) -> dict[int, JSON]:
        guild_id = int(request.match_info["guild_id"])
        if guild_id not in self.core.world.guilds:
            raise h.ApiError(404, 10004, "Unknown Guild")
        return self.events.setdefault(guild_id, {})

    def _event(self, request: web.Request) -> JSON:
        event = self._events(request).get(int(request.match_info["event_id"]))
        if event is None:
            raise h.ApiError(404, 10070, "Unknown Guild Scheduled Event")
        return event

    # --- forum posts ------------------------------------------------------------------------------

    async def create_thread(self, request: web.Request) -> web.Response:
        world = self.core.world
        forum_id = int(request.match_info["channel_id"])
        forum = world.channels.get(forum_id)
        if forum is None:
            raise h.ApiError(404, 10003, "Unknown Channel")
        if forum.get("type") != CHANNEL_FORUM:
            raise h.ApiError(
                400,
                50024,
                "Cannot execute action on this channel type (threads without a message: not in the sandbox)",
            )
        body = json_body(request)
        first = body.get("message") or {}
        guild_id = int(forum["guild_id"])
        thread_id = self.core.ids.next()
        thread = {
            "id": str(thread_id),
            "type": CHANNEL_PUBLIC_THREAD,
            "guild_id": str(guild_id),
            "parent_id": str(forum_id),
            "name": str(body.get("name", "post"))[:100],
            "owner_id": str(world.bot_user_id),
            "applied_tags": body.get("applied_tags", []),
            "message_count": 1,
            "member_count": 1,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 10080,
                "archive_timestamp": iso_now(),
                "locked": False,
            },
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
            "nsfw": bool(forum.get("nsfw")),
        }
        world.channels[thread_id] = thread
        message = self.core.factory.create(
            channel_id=thread_id,
            guild_id=guild_id,
            author=world.bot_user,
            payload=first,
            files=request[FILES],
        )
        await self.core.publish(message)
        await self.gateway.dispatch(
            "THREAD_CREATE", {**thread, "newly_created": True}, guild_id=guild_id, intent=1
        )
        return h.json_response({**thread, "message": message.data})
