"""``WebPage``: the page (``GET /``), its assets, its live stream and the routes it acts through.

The page acts as the member it is viewing as: every route takes ``member`` and is refused (403) when
that member could not do it on Discord (not in the guild, or the channel hidden from them). Routes
that change something refuse requests from other origins, so another site open in the same browser
cannot drive the sandbox; on loopback, requests naming a non-local ``Host`` are refused too."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.sandbox import http_utils as h
from bot.sandbox.actions import UserActions
from bot.sandbox.commands import OptionError, UnknownCommand
from bot.sandbox.core import SandboxCore
from bot.sandbox.interactions import AUTOCOMPLETE_RESULT, MODAL, InteractionHandle
from bot.sandbox.web import acting, view
from bot.sandbox.web.live import LiveHub, StatusSource

JSON = dict[str, Any]
PREFIX = "/_sandbox/web"
STATIC = Path(__file__).with_name("static")
ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*\.(?:js|css|svg|png|ico)$")
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class WebPage:
    """Serves the page for one sandbox; ``status_source`` feeds its job-queue panel."""

    def __init__(
        self,
        core: SandboxCore,
        actions: UserActions,
        base_url: Callable[[], str],
        host: Callable[[], str],
    ) -> None:
        self.core = core
        self.world = core.world
        self.actions = actions
        self._base_url = base_url
        self._host = host
        self.hub = LiveHub(core, base_url)

    @property
    def status_source(self) -> StatusSource | None:
        """An async callable returning the job queue and the workers as JSON (None: the panel says so)."""
        return self.hub.status_source

    @status_source.setter
    def status_source(self, source: StatusSource | None) -> None:
        self.hub.status_source = source
        self.hub.status = None

    def register(self, app: web.Application) -> None:
        app.middlewares.append(self.hub.middleware)
        app.on_startup.append(self.hub.on_startup)
        app.on_shutdown.append(self.hub.on_shutdown)
        router = app.router
        router.add_get("/", self.index)
        router.add_get(PREFIX + "/", self.index)
        router.add_get(PREFIX + "/static/{name}", self.asset)
        router.add_get(PREFIX + "/live", self.live)
        router.add_get(PREFIX + "/world", self.world_route)
        router.add_get(PREFIX + "/messages", self.messages)
        router.add_get(PREFIX + "/status", self.status)
        for name, handler in (
            ("command", self.command),
            ("autocomplete", self.autocomplete),
            ("click", self.click),
            ("select", self.select),
            ("modal", self.modal),
            ("post", self.post),
        ):
            router.add_post(f"{PREFIX}/{name}", self._guarded(handler))

    # --- the page and its assets ---------------------------------------------------------------

    async def index(self, request: web.Request) -> web.StreamResponse:
        self._check_host(request)
        return web.FileResponse(
            STATIC / "index.html", headers=dict(PAGE_HEADERS, **{"Content-Type": "text/html"})
        )

    async def asset(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = STATIC / name
        if not ASSET_NAME.match(name) or not path.is_file():
            raise web.HTTPNotFound()
        headers = {"Content-Type": CONTENT_TYPES[path.suffix], "Cache-Control": "no-cache"}
        headers["X-Content-Type-Options"] = "nosniff"
        return web.FileResponse(path, headers=headers)

    # --- reading ---------------------------------------------------------------------------------

    async def live(self, request: web.Request) -> web.StreamResponse:
        self._check_host(request)
        member = self._member(request.query.get("member"))
        return await self.hub.stream(request, member, lambda: self.snapshot(member))

    async def snapshot(self, member: int) -> JSON:
        """Everything a page needs to draw itself for ``member``."""
        if self.hub.status is None and self.hub.status_source is not None:
            self.hub.status = await self.hub.read_status()
        return {
            **self.hub.world_view(member),
            "messages": view.history(self.core.messages, self.world, member, self._base_url()),
            "status": self.hub.status or await self.hub.read_status(),
            "response_window_s": self.core.rules.response_window,
        }

    async def world_route(self, request: web.Request) -> web.Response:
        return h.json_response(self.hub.world_view(self._member(request.query.get("member"))))

    async def messages(self, request: web.Request) -> web.Response:
        member = self._member(request.query.get("member"))
        channel = request.query.get("channel_id")
        listed = view.history(self.core.messages, self.world, member, self._base_url())
        if channel:
            listed = [m for m in listed if m["channel_id"] == channel]
        return h.json_response(listed)

    async def status(self, request: web.Request) -> web.Response:
        return h.json_response(await self.hub.read_status())

    # --- acting as a member ----------------------------------------------------------------------

    def _guarded(self, handler: Callable[[web.Request, JSON, int], Any]) -> Any:
        async def route(request: web.Request) -> web.StreamResponse:
            try:
                self._check_origin(request)
                self._check_host(request)
                body = await request.json() if request.can_read_body else {}
                if not isinstance(body, dict):
                    raise Refused(400, "the body must be a JSON object")
                member = self._member(body.get("member"))
                response: web.StreamResponse = await handler(request, body, member)
                return response
            except Refused as refused:
                return h.json_response({"message": str(refused)}, status=refused.status)
            except ValueError as error:  # bad JSON, or an option the schema refuses
                return h.json_response({"message": str(error)}, status=400)
            except (UnknownCommand, LookupError) as error:
                return h.json_response({"message": str(error).strip("'\"")}, status=400)

        return route

    async def command(self, request: web.Request, body: JSON, member: int) -> web.Response:
        """``{"member", "channel_id", "name": "group sub", "options", "locale"?}`` → the interaction."""
        channel = self._channel(body.get("channel_id"), member)
        try:
            handle = await self.actions.command(
                str(body["name"]),
                body.get("options") or {},
                user=member,
                channel=channel,
                locale=str(body.get("locale") or "en-US"),
            )
        except KeyError as error:
            raise Refused(400, f"missing field {error}") from None
        except OptionError as error:
            raise Refused(400, str(error)) from None
        return h.json_response(await self._answered(handle))

    async def autocomplete(self, request: web.Request, body: JSON, member: int) -> web.Response:
        """``{"member", "channel_id", "name", "options", "focused", "locale"?}`` → the bot's choices."""
        channel = self._channel(body.get("channel_id"), member)
        handle = await self.actions.command(
            str(body.get("name", "")),
            body.get("options") or {},
            user=member,
            channel=channel,
            locale=str(body.get("locale") or "en-US"),
            focused=str(body.get("focused", "")),
            validate=False,  # Discord sends what has been typed so far
        )
        answered = await self._answered(handle)
        data = handle.response_data or {}
        choices = data.get("choices") if handle.response_type == AUTOCOMPLETE_RESULT else []
        return h.json_response({**answered, "choices": choices or []})

    async def click(self, request: web.Request, body: JSON, member: int) -> web.Response:
        """``{"member", "message_id", "custom_id"}``: press a button."""
        message_id = self._message(body.get("message_id"), member)
        handle = await self.actions.click(message_id, str(body.get("custom_id", "")), user=member)
        return h.json_response(await self._answered(handle))

    async def select(self, request: web.Request, body: JSON, member: int) -> web.Response:
        """``{"member", "message_id", "custom_id", "values"}``: choose in a select menu."""
        message_id = self._message(body.get("message_id"), member)
        values = [str(v) for v in body.get("values") or []]
        handle = await acting.choose(
            self.actions, message_id, str(body.get("custom_id", "")), values, user=member
        )
        return h.json_response(await self._answered(handle))

    async def modal(self, request: web.Request, body: JSON, member: int) -> web.Response:
        """``{"member", "interaction_id", "values": {custom_id: value}}``: submit the modal it opened."""
        opened = self.core.interactions.get(int(body.get("interaction_id") or 0))
        if opened is None or opened.user_id != member:
            raise Refused(404, "no modal of this member's is open")
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise Refused(400, "values must be an object")
        handle = await acting.submit_modal(self.actions, opened, values)
        return h.json_response(await self._answered(handle))

    async def post(self, request: web.Request, body: JSON, member: int) -> web.Response:
        """``{"member", "channel_id", "content"}``: the member writes a message."""
        channel = self._channel(body.get("channel_id"), member)
        content = str(body.get("content") or "").strip()
        if not content:
            raise Refused(400, "an empty message")
        if len(content) > 2000:
            raise Refused(400, "messages are limited to 2000 characters")
        return h.json_response(await self.actions.post(content, channel=channel, user=member))

    async def _answered(self, handle: InteractionHandle) -> JSON:
        """The interaction once the bot answered it (or the response window passed)."""
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await handle.wait_responded(self.core.rules.response_window + 0.5)
        return {
            "id": str(handle.id),
            "type": handle.type,
            "responded": handle.responded,
            "response_type": handle.response_type,
            "modal": handle.response_data if handle.response_type == MODAL else None,
            "rejections": [r.message for r in handle.rejections],
        }

    # --- who may do what ---------------------------------------------------------------------------

    def _member(self, raw: Any) -> int:
        guild = self.world.default_guild
        if raw in (None, ""):
            return self.world.test_member_id
        try:
            member = int(raw)
        except (TypeError, ValueError):
            raise Refused(400, f"member must be a user id, not {raw!r}") from None
        user = self.world.users.get(member)
        if user is None or user.get("bot") or member not in guild.member_ids:
            raise Refused(403, f"{member} is not a member of {guild.name}")
        return member

    def _channel(self, raw: Any, member: int) -> int:
        channel = self.world.default_channel_id if raw in (None, "") else int(raw)
        if not view.can_view(self.world, channel, member):
            raise Refused(403, "that channel is not visible to this member")
        return channel

    def _message(self, raw: Any, member: int) -> int:
        stored = self.core.messages.get(int(raw or 0))
        if stored is None or not view.message_for(self.world, stored, member):
            raise Refused(404, "no such message for this member")
        return stored.id

    def _check_origin(self, request: web.Request) -> None:
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            raise Refused(403, "requests from other sites are refused")

    def _check_host(self, request: web.Request) -> None:
        """On loopback, only loopback names: a rebinding DNS name cannot reach the page."""
        if self._host() not in LOCAL_HOSTS:
            return
        hostname = (
            request.host.rsplit(":", 1)[0]
            if not request.host.startswith("[")
            else request.host.split("]")[0] + "]"
        )
        if hostname not in LOCAL_HOSTS:
            raise web.HTTPForbidden(text="the sandbox answers on loopback names only")
