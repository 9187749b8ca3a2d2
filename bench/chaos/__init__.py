"""`make chaos`: the whole stack under injected faults, and an account of every job, vote and announcement.

It lives beside the other benchmarks (not shipped, nothing shipped imports it) because, like them, it
drives real processes and prints a table; the reduced run is also a test (tests/chaos/).
See docs/chaos.md.
"""
