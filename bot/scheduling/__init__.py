"""Durable timers: stored in the database, fired by the scheduler process.

- `clock`: what time it is, and waiting (a manual clock for tests).
- `repository`: the `timers` table: schedule (upsert by key), cancel, claim with a lease, finish.
- `handlers`: which coroutine runs a timer of each kind.
- `runner`: claims due timers and runs their handlers, with retries and backoff.
- `process`: the scheduler process: the job reconciler and the timer runner side by side.

A timer may fire more than once (see `handlers`): every handler must be idempotent.
"""
