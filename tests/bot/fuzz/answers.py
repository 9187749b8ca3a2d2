"""What the member saw after one interaction, whether what the bot sent fits Discord's limits, and what
the bot has stored (to tell that a refused interaction stored nothing)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bot.app import AtelierBot
from bot.challenges.model import Phase
from bot.sandbox import InteractionHandle, SandboxServer
from bot.sandbox.interactions import DEFERRED_CHANNEL_MESSAGE, MODAL

JSON = dict[str, Any]
EPHEMERAL = 1 << 6
LOADING = 1 << 7
INTERNAL = ("went wrong", "Traceback", "internal error")
"""Words of the internal-error reply (and of a traceback shown to a member)."""


@dataclass
class Answer:
    """The bot's response to one interaction and every message it sent for it."""

    response_type: int | None
    messages: list[JSON] = field(default_factory=list)
    modal: JSON | None = None

    @property
    def private(self) -> bool:
        """Every message the member was answered with is ephemeral (a modal counts as private)."""
        if self.modal is not None:
            return True
        return bool(self.messages) and all(int(m.get("flags") or 0) & EPHEMERAL for m in self.messages)

    @property
    def text(self) -> str:
        parts: list[str] = []
        for message in self.messages:
            parts.append(str(message.get("content") or ""))
            for embed in message.get("embeds") or []:
                parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
                parts += [f"{f.get('name')}: {f.get('value')}" for f in embed.get("fields") or []]
        return "\n".join(parts)


def _shown(message: JSON | None) -> bool:
    if not message or int(message.get("flags") or 0) & LOADING:
        return False
    return bool(message.get("content") or message.get("embeds") or message.get("attachments"))


async def answer_of(server: SandboxServer, handle: InteractionHandle, settle: float = 5.0) -> Answer:
    """Wait for the response (Discord's 3 s), then, after a defer, for the reply or a follow-up."""
    try:
        await handle.wait_responded(3.0)
    except TimeoutError:
        return Answer(None)
    if handle.response_type == MODAL:
        return Answer(MODAL, modal=handle.response_data)

    def collected() -> list[JSON] | None:
        found = []
        if handle.response_type != DEFERRED_CHANNEL_MESSAGE and handle.response_data:
            found.append(handle.response_data)
        if handle.original_message_id is not None and handle.response_type == DEFERRED_CHANNEL_MESSAGE:
            original = server.core.messages.get(handle.original_message_id)
            if original is not None and _shown(original.data):
                found.append(original.data)
        for message_id in handle.followup_ids:
            followup = server.core.messages.get(message_id)
            if followup is not None:
                found.append(followup.data)
        if handle.response_type == DEFERRED_CHANNEL_MESSAGE and not found:
            return None  # still thinking
        return found

    try:
        messages = await server.core.messages.changes.wait_until(collected, settle)
    except TimeoutError:
        messages = collected() or []
    await asyncio.sleep(0)  # let a follow-up that is on its way land
    return Answer(handle.response_type, list(messages))


# --- Discord's limits on what a bot sends --------------------------------------------------------

EMBED_LIMITS = {"title": 256, "description": 4096}


def limit_problems(payload: JSON) -> list[str]:
    """Where a message (or modal) payload breaks Discord's limits (it would answer 400 Invalid Form Body)."""
    problems = []
    content = payload.get("content")
    if isinstance(content, str) and len(content) > 2000:
        problems.append(f"content of {len(content)} characters")
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        problems.append(f"{len(embeds)} embeds")
    total = 0
    for embed in embeds:
        for key, limit in EMBED_LIMITS.items():
            value = str(embed.get(key) or "")
            total += len(value)
            if len(value) > limit:
                problems.append(f"embed {key} of {len(value)} characters")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append(f"{len(fields)} embed fields")
        for item in fields:
            name, value = str(item.get("name") or ""), str(item.get("value") or "")
            total += len(name) + len(value)
            if len(name) > 256 or len(value) > 1024:
                problems.append(f"embed field {name[:30]!r} of {len(name)}/{len(value)} characters")
        footer = str((embed.get("footer") or {}).get("text") or "")
        total += len(footer)
        if len(footer) > 2048:
            problems.append(f"embed footer of {len(footer)} characters")
    if total > 6000:
        problems.append(f"embeds of {total} characters in all")
    title = payload.get("title")
    if payload.get("custom_id") and isinstance(title, str) and len(title) > 45:
        problems.append(f"modal title of {len(title)} characters")
    problems += _component_problems(payload.get("components") or [])
    return problems


def _component_problems(components: list[JSON]) -> list[str]:
    problems = []
    for component in components:
        custom_id, label = component.get("custom_id"), component.get("label")
        if isinstance(custom_id, str) and len(custom_id) > 100:
            problems.append(f"custom_id of {len(custom_id)} characters")
        if isinstance(label, str) and len(label) > 80:
            problems.append(f"component label of {len(label)} characters")
        for key in ("components", "component"):
            child = component.get(key)
            problems += _component_problems(child if isinstance(child, list) else [child] if child else [])
    return problems


def sent_problems(server: SandboxServer, since: int) -> list[str]:
    """Limit problems in every message the bot sent since request number `since`."""
    problems = []
    for request in server.requests[since:]:
        body = request.json if isinstance(request.json, dict) else {}
        if request.path.startswith("/interactions/"):
            body = body.get("data") or {}
        for problem in limit_problems(body):
            problems.append(f"{request.method} {request.path}: {problem}")
    return problems


# --- what is stored -------------------------------------------------------------------------------


async def stored_state(bot: AtelierBot, guild_id: int) -> tuple[Any, ...]:
    """Jobs, the server's settings document and its challenges: what a refusal must leave alone."""
    jobs = [(r.id, r.status) for r in await bot.runtime.jobs.list_recent(limit=1000)]
    settings = await bot.services.guilds.repository.get(guild_id)
    challenges = []
    feature = bot.services.extras.get("challenges")
    if feature is not None:
        for challenge in await feature.repository.for_guild(guild_id, phases=list(Phase), limit=1000):
            challenges.append((challenge.id, challenge.title, challenge.brief, challenge.closes_at))
    return (jobs, settings.version, settings.data, challenges)
