"""The sandbox's Discord gateway: HELLO, IDENTIFY/READY, heartbeats, RESUME with replay, and faults."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.sandbox.snowflake import shard_for_guild
from bot.sandbox.waiting import Changes
from bot.sandbox.world import World

JSON = dict[str, Any]
log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

CLOSE_UNKNOWN_OPCODE, CLOSE_DECODE_ERROR, CLOSE_NOT_AUTHENTICATED = 4001, 4002, 4003
CLOSE_AUTH_FAILED, CLOSE_ALREADY_AUTHENTICATED, CLOSE_INVALID_SHARD = 4004, 4005, 4010

REPLAY_LIMIT = 2000
GUILD_PRESENCES = 1 << 8


@dataclass(frozen=True)
class GatewayEvent:
    """A milestone in the gateway's life, for tests to wait on (``identify``, ``resume``, ``drop``…)."""

    kind: str
    session_id: str | None
    shard_id: int


class Connection:
    """One websocket, sending JSON as text or through a shared zlib-stream context."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, compress: bool) -> None:
        self.request = request
        self.ws = ws
        self._zlib = zlib.compressobj() if compress else None
        self._lock = asyncio.Lock()

    async def send(self, payload: JSON) -> None:
        text = json.dumps(payload)
        async with self._lock:
            if self.ws.closed:
                return
            try:
                if self._zlib is None:
                    await self.ws.send_str(text)
                else:
                    data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
            except ConnectionError:
                log.debug("gateway send on a closed socket dropped")

    def abort(self) -> None:
        """Cut the TCP connection without a close frame."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


@dataclass(eq=False)
class Session:
    """A gateway session: survives its socket so RESUME can replay what was missed."""

    id: str
    shard_id: int
    shard_count: int
    intents: int
    seq: int = 0
    backlog: list[tuple[int, JSON]] = field(default_factory=list)
    connection: Connection | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def owns_guild(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard_id == 0
        return shard_for_guild(guild_id, self.shard_count) == self.shard_id

    async def dispatch(self, event: str, data: JSON) -> int:
        """Number the event, keep it for replay, and send it if a socket is attached."""
        async with self.lock:
            return await self._dispatch_locked(event, data)

    async def _dispatch_locked(self, event: str, data: JSON) -> int:
        self.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.backlog.append((self.seq, payload))
        del self.backlog[:-REPLAY_LIMIT]
        if self.connection is not None:
            await self.connection.send(payload)
        return self.seq


class Gateway:
    """Serves ``GET /gateway`` websockets for every shard of the sandbox bot."""

    def __init__(
        self,
        world: World,
        *,
        token: str | None,
        heartbeat_interval_ms: int,
        resume_url: Callable[[], str],
    ) -> None:
        self.world = world
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._resume_url = resume_url
        self.sessions: dict[str, Session] = {}
        self.history: list[GatewayEvent] = []
        self.changes = Changes()
        self._connections: set[Connection] = set()

    # --- observation -------------------------------------------------------------------------

    def _note(self, kind: str, session: Session | None, shard_id: int = 0) -> None:
        self.history.append(
            GatewayEvent(kind, session.id if session else None, session.shard_id if session else shard_id)
        )
        self.changes.notify()

    def count(self, kind: str) -> int:
        return sum(1 for event in self.history if event.kind == kind)

    async def wait_for(self, kind: str, *, count: int = 1, timeout: float = 10.0) -> GatewayEvent:
        """Wait until ``kind`` has happened ``count`` times in total; return the latest one."""

        def check() -> GatewayEvent | None:
            matching = [event for event in self.history if event.kind == kind]
            return matching[-1] if len(matching) >= count else None

        return await self.changes.wait_until(check, timeout)

    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.connection is not None]

    # --- dispatch ----------------------------------------------------------------------------

    async def dispatch(self, event: str, data: JSON, *, guild_id: int | None = None, intent: int = 0) -> int:
        """Send an event to the sessions owning ``guild_id`` (shard 0 for DMs); returns how many got it."""
        targets = [
            s for s in self.sessions.values() if s.owns_guild(guild_id) and (s.intents & intent) == intent
        ]
        for session in targets:
            await session.dispatch(event, data)
        return len(targets)

    # --- faults ------------------------------------------------------------------------------

    async def drop(self, shard_id: int | None = None) -> int:
        """Abort sockets without a close frame; sessions stay resumable."""
        dropped = 0
        for session in self._select(shard_id):
            connection = session.connection
            if connection is not None:
                session.connection = None
                connection.abort()
                self._note("drop", session)
                dropped += 1
        return dropped

    async def send_reconnect(self, shard_id: int | None = None) -> int:
        """Op 7: the client closes and RESUMEs."""
        sent = 0
        for session in self._select(shard_id):
            if session.connection is not None:
                await session.connection.send({"op": RECONNECT, "d": None})
                self._note("reconnect_sent", session)
                sent += 1
        return sent

    async def invalidate_session(self, shard_id: int | None = None, *, resumable: bool = False) -> int:
        """Op 9: without ``resumable`` the session is forgotten, so the client must IDENTIFY again."""
        sent = 0
        for session in self._select(shard_id):
            connection = session.connection
            if not resumable:
                self.sessions.pop(session.id, None)
            if connection is not None:
                await connection.send({"op": INVALID_SESSION, "d": resumable})
                self._note("invalidate_sent", session)
                sent += 1
        return sent

    def _select(self, shard_id: int | None) -> list[Session]:
        return [s for s in list(self.sessions.values()) if shard_id is None or s.shard_id == shard_id]

    async def close_all(self) -> None:
        for connection in list(self._connections):
            await connection.ws.close(code=1001, message=b"sandbox stopping")

    # --- websocket handler -------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        if request.query.get("encoding", "json") != "json":
            await ws.close(code=CLOSE_DECODE_ERROR, message=b"only encoding=json is supported")
            return ws
        connection = Connection(request, ws, compress=request.query.get("compress") == "zlib-stream")
        self._connections.add(connection)
        self._note("connect", None)
        await connection.send({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        session: Session | None = None
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT and message.type is not WSMsgType.BINARY:
                    break
                try:
                    frame = json.loads(message.data)
                    op = frame["op"]
                except (ValueError, KeyError, TypeError):
                    await ws.close(code=CLOSE_DECODE_ERROR, message=b"Decode error")
                    break
                session = await self._on_frame(connection, session, op, frame.get("d"))
        finally:
            self._connections.discard(connection)
            if session is not None and session.connection is connection:
                session.connection = None
                self._note("disconnect", session)
        return ws

    async def _on_frame(
        self, connection: Connection, session: Session | None, op: int, data: Any
    ) -> Session | None:
        if op == HEARTBEAT:
            await connection.send({"op": HEARTBEAT_ACK})
            return session
        if op == IDENTIFY:
            if session is not None:
                await connection.ws.close(code=CLOSE_ALREADY_AUTHENTICATED, message=b"Already authenticated")
                return session
            return await self._identify(connection, data or {})
        if op == RESUME:
            return await self._resume(connection, data or {})
        if session is None:
            await connection.ws.close(code=CLOSE_NOT_AUTHENTICATED, message=b"Not authenticated")
            return None
        if op == REQUEST_MEMBERS:
            self._note("request_members", session)
            await self._members_chunk(session, data or {})
        elif op not in (PRESENCE, 4):
            await connection.ws.close(code=CLOSE_UNKNOWN_OPCODE, message=b"Unknown opcode")
        return session

    def _token_ok(self, token: Any) -> bool:
        return self.token is None or token in (self.token, f"Bot {self.token}")

    async def _identify(self, connection: Connection, data: JSON) -> Session | None:
        if not self._token_ok(data.get("token")):
            await connection.ws.close(code=CLOSE_AUTH_FAILED, message=b"Authentication failed")
            return None
        shard_id, shard_count = data.get("shard") or (0, 1)
        if not 0 <= shard_id < shard_count:
            await connection.ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard")
            return None
        for stale in [s for s in self.sessions.values() if s.shard_id == shard_id and s.connection is None]:
            del self.sessions[stale.id]
        session = Session(secrets.token_hex(16), shard_id, shard_count, int(data.get("intents", 0)))
        self.sessions[session.id] = session
        guild_ids = [gid for gid in self.world.guilds if session.owns_guild(gid)]
        async with session.lock:
            session.connection = connection
            await session._dispatch_locked("READY", self._ready_payload(session, guild_ids, "shard" in data))
            for guild_id in guild_ids:
                guild = self.world.guild_create_payload(
                    guild_id, all_members=bool(session.intents & GUILD_PRESENCES)
                )
                await session._dispatch_locked("GUILD_CREATE", guild)
        self._note("identify", session)
        return session

    def _ready_payload(self, session: Session, guild_ids: list[int], sharded: bool) -> JSON:
        user = dict(self.world.bot_user, verified=True, mfa_enabled=False, email=None)
        ready: JSON = {
            "v": 10,
            "user": user,
            "guilds": [{"id": str(gid), "unavailable": True} for gid in guild_ids],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._resume_url(),
            "application": {"id": str(self.world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "_trace": ["atelier-sandbox"],
        }
        if sharded:
            ready["shard"] = [session.shard_id, session.shard_count]
        return ready

    async def _resume(self, connection: Connection, data: JSON) -> Session | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or not self._token_ok(data.get("token")):
            await connection.send({"op": INVALID_SESSION, "d": False})
            self._note("resume_failed", None)
            return None
        after = data.get("seq") or 0
        old = session.connection
        async with session.lock:
            session.connection = connection
            for seq, payload in session.backlog:
                if seq > after:
                    await connection.send(payload)
            await session._dispatch_locked("RESUMED", {"_trace": ["atelier-sandbox"]})
        if old is not None and old is not connection:
            await old.ws.close(code=4000, message=b"Session resumed elsewhere")
        self._note("resume", session)
        return session

    async def _members_chunk(self, session: Session, data: JSON) -> None:
        guild_id = int(data.get("guild_id", 0))
        guild = self.world.guilds.get(guild_id)
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = []
        if guild is not None:
            members = [
                self.world.member_payload(guild_id, uid)
                for uid in guild.member_ids
                if not wanted or uid in wanted
            ]
        chunk: JSON = {"guild_id": str(guild_id), "members": members, "chunk_index": 0, "chunk_count": 1}
        if "nonce" in data:
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
