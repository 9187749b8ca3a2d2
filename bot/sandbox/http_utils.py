"""Request parsing and Discord-shaped responses for the sandbox's aiohttp handlers."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.store import UploadedFile

JSON_TYPE = "application/json"
ERROR_CODE = web.ResponseKey("sandbox_error_code", int)

# Discord JSON error codes the sandbox emits.
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
MISSING_ACCESS = 50001
UNKNOWN_WEBHOOK = 10015
UNKNOWN_INTERACTION = 10062
ALREADY_ACKNOWLEDGED = 40060
ENTITY_TOO_LARGE = 40005
INVALID_WEBHOOK_TOKEN = 50027
INVALID_FORM_BODY = 50035
UNAUTHORIZED = 0


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with ``Content-Type`` exactly ``application/json`` (discord.py compares it verbatim)."""
    response = web.Response(body=json.dumps(body).encode(), status=status, headers=headers)
    response.headers["Content-Type"] = JSON_TYPE
    return response


def error_response(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """A Discord error body: ``{"message", "code"}``; the code is kept for the request log."""
    response = json_response({"message": message, "code": code}, status=status, headers=headers)
    response[ERROR_CODE] = code
    return response


class ApiError(Exception):
    """Raised by a handler to answer with a Discord error body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message

    def response(self) -> web.Response:
        return error_response(self.status, self.code, self.message)


def no_content() -> web.Response:
    return web.Response(status=204)


def ratelimit_headers(bucket: str, *, remaining: int = 49, reset_after: float = 1.0) -> dict[str, str]:
    """The ``X-RateLimit-*`` headers Discord sends on every routed response."""
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


def rate_limited_response(bucket: str, retry_after: float, *, is_global: bool) -> web.Response:
    """A 429 discord.py accepts as a real rate limit: JSON body plus ``Via`` and rate-limit headers."""
    headers = ratelimit_headers(bucket, remaining=0, reset_after=retry_after)
    headers["Retry-After"] = str(max(1, round(retry_after)))
    headers["Via"] = "1.1 google"
    if is_global:
        headers["X-RateLimit-Global"] = "true"
        headers["X-RateLimit-Scope"] = "global"
    else:
        headers["X-RateLimit-Scope"] = "user"
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
    response = json_response(body, status=429, headers=headers)
    return response


class BadRequest(Exception):
    """Raised while parsing a request body that Discord would refuse."""


async def read_body(request: web.Request) -> tuple[Any, tuple[UploadedFile, ...]]:
    """Return ``(json_payload, files)`` for a JSON, multipart (``payload_json`` + ``files[n]``) or empty body."""
    content_type = request.content_type
    if content_type.startswith("multipart/"):
        return await _read_multipart(request)
    raw = await request.read()
    if not raw:
        return None, ()
    try:
        return json.loads(raw), ()
    except ValueError as exc:
        raise BadRequest(f"body is not JSON: {exc}") from exc


async def _read_multipart(request: web.Request) -> tuple[Any, tuple[UploadedFile, ...]]:
    reader = await request.multipart()
    payload: Any = None
    files: list[UploadedFile] = []
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise BadRequest("nested multipart bodies are not supported")
        data = await part.read(decode=False)
        name = part.name or ""
        if name == "payload_json":
            try:
                payload = json.loads(data)
            except ValueError as exc:
                raise BadRequest(f"payload_json is not JSON: {exc}") from exc
        elif part.filename is not None:
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            files.append(
                UploadedFile(field=name, filename=part.filename, content_type=content_type, data=data)
            )
    return payload, tuple(files)
