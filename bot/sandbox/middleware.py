"""Cross-cutting REST behaviour: record every request, inject faults, check the bot token."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.sandbox import http_utils as h
from bot.sandbox.rules import FaultInjector
from bot.sandbox.store import RecordedRequest, UploadedFile

API_PREFIX = "/api/v10"
log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNAUTHENTICATED_PREFIXES = ("/webhooks/", "/interactions/")
PAYLOAD: web.RequestKey[Any] = web.RequestKey("payload", object)
FILES = web.RequestKey("files", tuple[UploadedFile, ...])


def api_middleware(requests: list[RecordedRequest], faults: FaultInjector, token: str | None) -> Middleware:
    """Build the aiohttp middleware guarding ``/api/v10``."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        path = request.path[len(API_PREFIX) :]
        try:
            payload, files = await h.read_body(request)
        except h.BadRequest as exc:
            payload, files = None, ()
            response: web.StreamResponse = h.error_response(
                400, h.INVALID_FORM_BODY, f"Invalid Form Body: {exc}"
            )
        else:
            request[PAYLOAD], request[FILES] = payload, files
            response = await _respond(request, handler, path, faults, token)
        record = RecordedRequest(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=payload,
            files=files,
            timestamp=time.time(),
            status=response.status,
            error_code=response.get(h.ERROR_CODE),
        )
        requests.append(record)
        return response

    async def _respond(
        request: web.Request, handler: Handler, path: str, faults: FaultInjector, token: str | None
    ) -> web.StreamResponse:
        bucket = _bucket(request)
        fault = faults.take(request.method, path)
        if fault is not None and fault.is_rate_limit:
            return h.rate_limited_response(bucket, fault.retry_after, is_global=fault.is_global)
        if fault is not None:
            return h.error_response(fault.status, 0, f"{fault.status}: injected by the sandbox")
        exempt = token is None or path.startswith(UNAUTHENTICATED_PREFIXES)
        if not exempt and request.headers.get("Authorization") != f"Bot {token}":
            return h.error_response(401, h.UNAUTHORIZED, "401: Unauthorized")
        try:
            response = await handler(request)
        except h.ApiError as exc:
            return exc.response()
        except web.HTTPNotFound:
            return h.error_response(404, 0, "404: Not Found")
        except web.HTTPMethodNotAllowed:
            return h.error_response(405, 0, "405: Method Not Allowed")
        except Exception:
            log.exception("sandbox handler failed for %s %s", request.method, path)
            return h.error_response(500, 0, "500: Internal Server Error (sandbox bug, see its log)")
        if response.status < 400:
            response.headers.update(h.ratelimit_headers(bucket))
        return response

    return middleware


def _bucket(request: web.Request) -> str:
    """A stable bucket hash per route template, like Discord's ``X-RateLimit-Bucket``."""
    resource = request.match_info.route.resource
    canonical = resource.canonical if resource is not None else request.path
    return f"{abs(hash((request.method, canonical))) & 0xFFFFFFFF:08x}"


def json_body(request: web.Request) -> dict[str, Any]:
    """The parsed JSON (or ``payload_json``) object of a request; empty when absent or not an object."""
    payload = request[PAYLOAD]
    return payload if isinstance(payload, dict) else {}
