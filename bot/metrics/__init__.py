"""Prometheus metrics of the bot process (docs/metrics.md).

`families` defines every metric; `record` is what the pipeline, delivery and features call when
something happens; `interactions` follows interactions and their first response; `queues` reads
queue depths from the database and the broker; `server` serves `/metrics`.
"""
