"""`make bench`: every benchmark, outside the shipped packages (each module prints its own table).

Benchmarks may use test helpers (`tests.services`) and any package; nothing outside `bench/` and
`tests/` imports them.
"""
