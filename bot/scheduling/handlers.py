"""Which coroutine fires a timer of each kind: `async def handler(timer, context) -> None`.

Handlers must be idempotent. A timer fires at least once, not exactly once: a scheduler that dies
(or loses its database connection) after a handler's effect but before `complete` is recorded leaves
the timer pending under a lease that lapses, and then another scheduler fires it again; so does a
handler cut off by its timeout after part of its work. Make the effect safe to repeat: a
compare-and-set on the feature's own state ("open voting for challenge 42 only if it is still taking
submissions"), a unique key for what it creates (a row keyed by the timer's key, a Discord message
`nonce`), or a check first. The effect then happens exactly once even when the handler runs twice.

A timer whose kind has no handler here is not claimed at all: it stays pending, untouched (no
attempt is spent on it, and it never holds up timers that can fire), and the runner logs a warning
now and then. A newer bot version that knows the kind fires it, late, on its first pass.

Features register their handlers on `DEFAULT_HANDLERS` (with `@DEFAULT_HANDLERS.handler("kind")`) in a
module named in `HANDLER_MODULES`; the scheduler process imports those before it starts.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.scheduling.clock import Clock
from bot.scheduling.repository import Timer, TimerRepository


@dataclass(frozen=True)
class TimerContext:
    """What a handler gets besides its timer."""

    timers: TimerRepository
    """To schedule follow-ups (a reminder, the next phase) or cancel other timers."""
    clock: Clock
    owner: str
    """The scheduler firing it (for logs)."""
    services: Mapping[str, Any] = field(default_factory=dict)
    """What the process opened for handlers: the scheduler process puts its `Runtime` at "runtime"."""


Handler = Callable[[Timer, TimerContext], Awaitable[None]]


class HandlerRegistry:
    """kind -> handler."""

    def __init__(self, handlers: Mapping[str, Handler] | None = None) -> None:
        self._handlers: dict[str, Handler] = {}
        for kind, handler in (handlers or {}).items():
            self.register(kind, handler)

    def register(self, kind: str, handler: Handler, *, replace: bool = False) -> None:
        """Fire timers of `kind` with `handler`; a kind has one handler (`replace` swaps it)."""
        if not kind or len(kind) > 64:
            raise ValueError("a timer's kind must be 1 to 64 characters")
        if kind in self._handlers and not replace:
            raise ValueError(f"timer kind {kind!r} already has a handler")
        self._handlers[kind] = handler

    def handler(self, kind: str) -> Callable[[Handler], Handler]:
        """Decorator form of `register`."""

        def decorate(handler: Handler) -> Handler:
            self.register(kind, handler)
            return handler

        return decorate

    def get(self, kind: str) -> Handler | None:
        return self._handlers.get(kind)

    def kinds(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def __contains__(self, kind: object) -> bool:
        return kind in self._handlers

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._handlers))

    def __len__(self) -> int:
        return len(self._handlers)


DEFAULT_HANDLERS = HandlerRegistry()
"""The handlers the `atelier scheduler` process fires timers with."""

HANDLER_MODULES: tuple[str, ...] = ("bot.challenges.lifecycle",)
"""Modules that register handlers on DEFAULT_HANDLERS when imported (none yet)."""


def default_handlers() -> HandlerRegistry:
    """DEFAULT_HANDLERS, once every module in HANDLER_MODULES has been imported."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return DEFAULT_HANDLERS
