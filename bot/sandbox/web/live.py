"""Pushing the sandbox to open pages: one server-sent-event stream per page (``GET /_sandbox/web/live``).

A stream opens with a ``snapshot`` (the world as that member sees it, their recent messages, the job
queue), then carries ``message`` (created or edited), ``delete``, ``world`` (channels, members,
commands, the bot online or not) and ``status`` (the job queue) events. Nothing is polled by the
page: the hub wakes on the message store's and the gateway's change pulses, and after every request
that changes something, diffs what it last pushed, and sends each page what it may see.

Each ``message`` event carries ``t``: the wall-clock time (ms) the local server received the request
that caused it (the earliest such request still unaccounted for, so it never flatters the latency);
the page measures from it to the frame that shows the change (``window.atelier.latencies``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.core import SandboxCore
from bot.sandbox.web import view

JSON = dict[str, Any]
StatusSource = Callable[[], Awaitable[JSON]]
log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0
TICK_S = 0.5
STATUS_EVERY_S = 1.0
STATUS_TIMEOUT_S = 3.0
QUEUE_LIMIT = 5000
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(eq=False)
class Client:
    """One open page: the member it shows the sandbox to, and what is waiting to be written to it."""

    member: int
    queue: asyncio.Queue[tuple[str, JSON] | None] = field(default_factory=asyncio.Queue)
    world_signature: str = ""

    def send(self, event: str, data: JSON) -> None:
        if self.queue.qsize() < QUEUE_LIMIT:  # a page that stopped reading is dropped at the next write
            self.queue.put_nowait((event, data))


class LiveHub:
    """Knows what every page was last sent and pushes the difference."""

    def __init__(self, core: SandboxCore, base_url: Callable[[], str]) -> None:
        self.core = core
        self.world = core.world
        self._base_url = base_url
        self.clients: set[Client] = set()
        self.status_source: StatusSource | None = None
        self.status: JSON | None = None
        self._seen: dict[int, tuple[Any, ...]] = {}
        self._world_fingerprint: tuple[Any, ...] = ()
        self._arrivals: list[float] = []
        self._in_flight: dict[int, float] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._status_wanted = asyncio.Event()
        self._closing = False

    # --- lifecycle (aiohttp signals) -----------------------------------------------------------

    async def on_startup(self, app: web.Application) -> None:
        self._closing = False
        self._baseline()
        self._tasks = [
            asyncio.create_task(self._listen(self.core.messages.changes.wait_until)),
            asyncio.create_task(self._listen(self.core.gateway.changes.wait_until)),
            asyncio.create_task(self._tick()),
            asyncio.create_task(self._poll_status()),
        ]

    async def on_shutdown(self, app: web.Application) -> None:
        """End every stream at once, so the server does not wait for open pages to leave."""
        self._closing = True
        for client in list(self.clients):
            client.queue.put_nowait(None)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    # --- the stream ----------------------------------------------------------------------------

    async def stream(
        self, request: web.Request, member: int, snapshot: Callable[[], Awaitable[JSON]]
    ) -> web.StreamResponse:
        """Register the page first, then take its snapshot: a change in between reaches it twice
        (the page applies changes idempotently), never not at all."""
        if not self.clients:
            self._baseline()  # nobody was watching: what exists now is what the snapshot shows
        client = Client(member)
        client.world_signature = self._world_signature(member)
        self.clients.add(client)
        self._status_wanted.set()
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        try:
            first = await snapshot()
            await response.prepare(request)
            await _write(response, "snapshot", first)
            while not self._closing:
                try:
                    item = await asyncio.wait_for(client.queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if item is None:
                    break
                await _write(response, *item)
        except (ConnectionError, RuntimeError):
            log.debug("a sandbox page went away")
        finally:
            self.clients.discard(client)
        return response

    def _baseline(self) -> None:
        self._seen = {m.id: _signature(m.data) for m in self.core.messages.in_channel()}
        self._arrivals.clear()

    # --- what changed --------------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Note when a changing request arrived (the latency clock starts here) and look for changes
        once it is answered (command syncs, modals and other changes that pulse nothing)."""
        if request.method not in MUTATING:
            return await handler(request)  # type: ignore[no-any-return]
        arrived = time.time()
        key = id(request)
        self._arrivals.append(arrived)
        self._in_flight[key] = arrived
        try:
            return await handler(request)  # type: ignore[no-any-return]
        finally:
            self._in_flight.pop(key, None)
            self.sync()

    def sync(self) -> bool | None:
        """Push every change since the last call; True when something was sent (None otherwise, so
        that it serves as a ``Changes.wait_until`` check). Free while no page is open."""
        if not self.clients:
            self._arrivals.clear()
            return None
        stamp = min([*self._arrivals, *self._in_flight.values()], default=time.time())
        self._arrivals.clear()
        sent = self._sync_messages(stamp * 1000)
        sent = self._sync_world() or sent
        return True if sent else None

    def _sync_messages(self, stamp_ms: float) -> bool:
        current: dict[int, tuple[Any, ...]] = {}
        changed = []
        for message in self.core.messages.in_channel():
            signature = _signature(message.data)
            current[message.id] = signature
            if self._seen.get(message.id) != signature:
                changed.append(message)
        gone = {mid: seen[-1] for mid, seen in self._seen.items() if mid not in current}
        self._seen = current
        if not changed and not gone:
            return False
        base = self._base_url()
        for client in list(self.clients):
            for message in changed:
                if view.message_for(self.world, message, client.member):
                    client.send("message", {"message": view.shaped(message, base), "t": stamp_ms})
            for mid, channel_id in gone.items():
                client.send("delete", {"id": str(mid), "channel_id": channel_id, "t": stamp_ms})
        self._status_wanted.set()  # a job's message changed: its place in the queue may have too
        return True

    def _sync_world(self) -> bool:
        fingerprint = self._fingerprint()
        if fingerprint == self._world_fingerprint:
            return False
        self._world_fingerprint = fingerprint
        sent = False
        for client in list(self.clients):
            signature = self._world_signature(client.member)
            if signature != client.world_signature:
                client.world_signature = signature
                client.send("world", self.world_view(client.member))
                sent = True
        return sent

    def world_view(self, member: int) -> JSON:
        """The guild as ``member`` sees it: channels, members, roles, commands, and the bot's presence."""
        world = self.world
        guild = world.default_guild
        sessions = self.core.gateway.live_sessions()
        return {
            "guild": {"id": str(guild.id), "name": guild.name, "owner_id": str(guild.owner_id)},
            "viewer": str(member),
            "bot": {
                "id": str(world.bot_user_id),
                "name": world.bot_user.get("global_name") or world.bot_user["username"],
                "online": bool(sessions),
            },
            "members": [view.member_view(world, guild.id, uid) for uid in guild.member_ids],
            "roles": [
                {"id": r["id"], "name": r["name"], "color": r.get("color", 0)}
                for r in guild.roles
                if not r.get("managed")
            ],
            "channels": view.visible_channels(world, guild.id, member),
            "commands": view.visible_commands(self.core.commands, world, guild.id, member),
            "default_channel_id": str(world.default_channel_id),
        }

    def _fingerprint(self) -> tuple[Any, ...]:
        """Cheap to take on every change; the per-member views are rebuilt only when it moves."""
        world, registry = self.world, self.core.commands
        guild = world.default_guild
        return (
            repr(list(world.channels.values())),
            tuple(guild.member_ids),
            repr(guild.member_roles),
            repr(guild.roles),
            tuple(c["version"] for c in registry.global_commands),
            tuple((g, tuple(c["version"] for c in cs)) for g, cs in registry.guild_commands.items()),
            bool(self.core.gateway.live_sessions()),
            tuple((uid, u.get("global_name"), u["username"]) for uid, u in world.users.items()),
        )

    def _world_signature(self, member: int) -> str:
        return json.dumps(self.world_view(member), sort_keys=True, default=str)

    # --- background work ------------------------------------------------------------------------

    async def _listen(self, wait_until: Callable[[Callable[[], bool | None], float], Awaitable[Any]]) -> None:
        """Sync on every pulse of a change source (race-free: the check runs as the pulse is taken)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await wait_until(self.sync, 3600)

    async def _tick(self) -> None:
        """Changes made straight on the world from Python (tests, the demo cast) pulse nothing."""
        while True:
            await asyncio.sleep(TICK_S)
            if self.clients:
                self.sync()

    async def _poll_status(self) -> None:
        """Read the status source while a page is open: every second, and soon after a job's message changes."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._status_wanted.wait(), STATUS_EVERY_S)
            self._status_wanted.clear()
            if not self.clients or self.status_source is None:
                continue
            status = await self.read_status()
            if status != self.status:
                self.status = status
                for client in list(self.clients):
                    client.send("status", status)
            await asyncio.sleep(0.1)  # a burst of progress edits reads it once

    async def read_status(self) -> JSON:
        if self.status_source is None:
            return {"available": False, "note": "No job queue is connected to this sandbox."}
        try:
            return await asyncio.wait_for(self.status_source(), STATUS_TIMEOUT_S)
        except Exception as error:  # the panel says so; the page keeps working
            log.warning("sandbox status source failed: %s", error)
            return {"available": False, "note": f"The job queue could not be read ({type(error).__name__})."}


def _signature(data: JSON) -> tuple[Any, ...]:
    """Changes whenever an edit lands (Discord stamps every edit) or the message's flags change; the
    channel comes last (a deleted message's ``delete`` event names it)."""
    return (
        data.get("edited_timestamp"),
        data.get("flags"),
        len(data.get("components") or []),
        data["channel_id"],
    )


async def _write(response: web.StreamResponse, event: str, data: JSON) -> None:
    payload = json.dumps(data, separators=(",", ":"), default=str)
    await response.write(f"event: {event}\ndata: {payload}\n\n".encode())
