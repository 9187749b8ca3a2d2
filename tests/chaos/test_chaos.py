"""The reduced `make chaos` run: every fault once, with one challenge beside the runs, on the real stack
(bot, local Discord, private Redis and PostgreSQL, scheduler, three Celery workers). Nothing may be
lost or delivered twice."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.chaos.faults import FAULTS
from bench.chaos.harness import ChaosOptions, run_chaos
from bench.chaos.ledger import DELIVERED
from bench.chaos.postgres import PostgresUnavailable, _binary
from bench.chaos.table import render

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]


def _require_postgres_binaries() -> None:
    try:
        _binary("initdb")
        _binary("pg_ctl")
    except PostgresUnavailable as error:
        if os.environ.get("ATELIER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"the chaos run needs PostgreSQL's server binaries: {error}")
        pytest.skip(f"no PostgreSQL server binaries for a private cluster: {error}")


async def test_reduced_chaos_run_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    _require_postgres_binaries()
    report = await run_chaos(ChaosOptions(workdir=tmp_path / "chaos"), progress=False)
    print(render(report))
    assert [run.fault for run in sorted(report.runs, key=lambda r: r.fault)] == sorted(FAULTS)
    assert report.lost == 0 and report.duplicated == 0, report.problems
    assert report.problems == []
    assert sum(run.jobs.counts[DELIVERED] for run in report.runs) >= len(FAULTS) * 2  # most got through
    (challenge,) = report.challenges
    assert challenge.error == "" and challenge.entries == 3
    assert challenge.votes.counts[DELIVERED] > 0
    assert (
        challenge.announcements.counts[DELIVERED] == 3 + challenge.entries
    )  # opened, voting, entries, results
    assert sum(run.retried for run in report.runs) > 0  # some job did run again after a fault
