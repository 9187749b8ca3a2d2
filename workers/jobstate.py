"""A job's state in Redis on the worker side, changed by atomic scripts: one round trip to start, one to finish.

`begin` checks for a stored result and a cancel request, takes the job's lock and counts the attempt;
`finish` stores the result (the first writer wins), publishes the stored one on the event stream,
clears the enqueued marker and releases the lock. Done as separate commands they cost eleven round
trips per job, the largest part of the worker's own overhead (measured by `python -m bench.pipeline`).

`Heartbeats` keeps the locks of the jobs this process is running alive from one thread per process.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import redis

from wire import keys
from wire.contract import JobResult, ResultEvent, StartedEvent

log = logging.getLogger(__name__)

LOCK_TTL_S = 15
HEARTBEAT_S = 5

_BEGIN = """
local stored = redis.call('GET', KEYS[1])
if stored then return {'done', stored} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'cancelled', ''} end
if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'EX', ARGV[2]) then return {'busy', ''} end
local attempt = redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[4], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[6], '*', 'event', ARGV[4] .. attempt .. ARGV[5])
end
return {'run', tostring(attempt)}
"""
_ATTEMPT_PLACEHOLDER = 987654321  # stands for the attempt number in a started event's JSON

_FINISH = """
local result = ARGV[1]
if not redis.call('SET', KEYS[1], result, 'NX', 'EX', ARGV[2]) then
  result = redis.call('GET', KEYS[1]) or result
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[4] .. result .. ARGV[5])
redis.call('DEL', KEYS[3])
if ARGV[6] ~= '' and redis.call('GET', KEYS[4]) == ARGV[6] then redis.call('DEL', KEYS[4]) end
return result
"""

_REFRESH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Start(StrEnum):
    """What `begin` found."""

    RUN = "run"
    """The lock is ours: run the job."""
    DONE = "done"
    """It finished before (a redelivery): republish the stored result."""
    CANCELLED = "cancelled"
    """Someone cancelled it before it started."""
    BUSY = "busy"
    """Another worker holds its lock."""


@dataclass(frozen=True)
class Begun:
    state: Start
    attempt: int = 0
    stored: JobResult | None = None


class JobState:
    """The scripts, registered once per Redis client."""

    def __init__(self, client: redis.Redis, stream: str, maxlen: int, ttl_s: int) -> None:
        self.client = client
        self.stream = stream
        self.maxlen = maxlen
        self.ttl_s = ttl_s
        self._begin = client.register_script(_BEGIN)
        self._finish = client.register_script(_FINISH)
        self._release = client.register_script(_RELEASE)

    def begin(self, job_id: str, owner: str, started_at: datetime | None = None) -> Begun:
        """Check, lock and count the attempt in one step; with `started_at`, also publish the started event."""
        keys_ = [
            keys.result_key(job_id),
            keys.cancel_key(job_id),
            keys.lock_key(job_id),
            keys.attempts_key(job_id),
            self.stream,
        ]
        head = tail = ""
        if started_at is not None:
            event = StartedEvent(job_id=job_id, worker=owner, attempt=_ATTEMPT_PLACEHOLDER, at=started_at)
            head, found, tail = event.model_dump_json().partition(str(_ATTEMPT_PLACEHOLDER))
            if not found:
                raise RuntimeError("the started event does not contain its attempt number")
        args: list[str | int] = [owner, LOCK_TTL_S, self.ttl_s, head, tail, self.maxlen]
        state, value = self._begin(keys=keys_, args=args)
        found = Start(state.decode() if isinstance(state, bytes) else state)
        if found is Start.RUN:
            return Begun(found, attempt=int(value))
        if found is Start.DONE:
            return Begun(found, stored=JobResult.model_validate_json(value))
        return Begun(found)

    def finish(self, result: JobResult, owner: str | None) -> JobResult:
        """Store the result unless one is stored, publish the stored one, release `owner`'s lock."""
        result_json = result.model_dump_json()
        event_json = ResultEvent(result=result).model_dump_json()
        head, found, tail = event_json.partition(result_json)
        if not found:  # the contract always nests the result verbatim; refuse to publish a guess
            raise RuntimeError("the result event does not contain its result's JSON")
        job_id = result.job_id
        stored = self._finish(
            keys=[keys.result_key(job_id), self.stream, keys.enqueued_key(job_id), keys.lock_key(job_id)],
            args=[result_json, self.ttl_s, self.maxlen, head, tail, owner or ""],
        )
        return result if stored == result_json.encode() else JobResult.model_validate_json(stored)

    def release(self, job_id: str, owner: str) -> None:
        """Release the lock if `owner` still holds it (after a crash that skipped `finish`)."""
        self._release(keys=[keys.lock_key(job_id)], args=[owner])


class Heartbeats:
    """One thread per process that keeps every running job's lock alive; a dead process's expire."""

    def __init__(self, client: redis.Redis, interval_s: float = HEARTBEAT_S) -> None:
        self.client = client
        self.interval_s = interval_s
        self._held: dict[str, str] = {}
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._refresh = client.register_script(_REFRESH)

    def hold(self, job_id: str, owner: str) -> None:
        """Keep `job_id`'s lock (already taken by `begin`) alive until `drop`."""
        with self._guard:
            self._held[job_id] = owner
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._beat, name="heartbeats", daemon=True)
                self._thread.start()

    def drop(self, job_id: str) -> None:
        with self._guard:
            self._held.pop(job_id, None)

    def held(self) -> dict[str, str]:
        with self._guard:
            return dict(self._held)

    def stop(self) -> None:
        """Stop the thread (the locks it kept then expire on their own)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stopped.wait(self.interval_s):
            for job_id, owner in self.held().items():
                try:
                    self._refresh(keys=[keys.lock_key(job_id)], args=[owner, LOCK_TTL_S])
                except Exception as error:  # keep beating for the other jobs whatever went wrong
                    log.warning("heartbeat for job %s failed: %s", job_id, error)
