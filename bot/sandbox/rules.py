"""Discord's interaction rules the sandbox enforces, and the faults tests can inject."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]

MIB = 1024 * 1024


@dataclass
class SandboxRules:
    """Limits enforced like Discord's, all adjustable for tests.

    ``clock`` returns seconds; replace it to make tokens expire without waiting.
    """

    response_window: float = 3.0
    token_ttl: float = 15 * 60.0
    attachment_size_limit: int = 10 * MIB
    heartbeat_interval_ms: int = 41_250
    clock: Clock = field(default=time.monotonic)


def route_matches(pattern: str, method: str, path: str) -> bool:
    """Match ``"POST /channels/*/messages"`` or a bare path glob against a request.

    Paths are relative to the API base (``/channels/1/messages``); ``*`` spans slashes.
    """
    pattern = pattern.strip()
    want_method, _, want_path = pattern.partition(" ")
    if not want_path:
        want_method, want_path = "*", pattern
    if want_method != "*" and want_method.upper() != method.upper():
        return False
    return fnmatch.fnmatchcase(path, want_path)


@dataclass
class Fault:
    """One injected fault: a plain error status or a 429 with ``retry_after``."""

    pattern: str
    status: int
    remaining: int
    retry_after: float = 0.0
    is_global: bool = False

    @property
    def is_rate_limit(self) -> bool:
        return self.status == 429


class FaultInjector:
    """Holds pending faults; each matching request consumes one."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add_failures(self, pattern: str, status: int = 500, count: int = 1) -> Fault:
        if not 400 <= status <= 599:
            raise ValueError(f"failure status must be 4xx or 5xx, got {status}")
        fault = Fault(pattern=pattern, status=status, remaining=count)
        self._faults.append(fault)
        return fault

    def add_rate_limit(
        self, pattern: str, retry_after: float, count: int = 1, *, is_global: bool = False
    ) -> Fault:
        fault = Fault(
            pattern=pattern, status=429, remaining=count, retry_after=retry_after, is_global=is_global
        )
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the first pending fault matching this request, if any."""
        for fault in self._faults:
            if fault.remaining > 0 and route_matches(fault.pattern, method, path):
                fault.remaining -= 1
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        return [fault for fault in self._faults if fault.remaining > 0]
