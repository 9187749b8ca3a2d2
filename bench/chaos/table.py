"""The table of runs, faults and outcomes, as text and as JSON."""

from __future__ import annotations

from typing import Any

from bench.chaos.harness import ChaosReport
from bench.chaos.ledger import DELIVERED, DUPLICATED, FAILED_SEEN, LOST, UNANSWERED, Tally

COLUMNS = (DELIVERED, FAILED_SEEN, UNANSWERED, LOST, DUPLICATED)


def _cells(tally: Tally) -> list[str]:
    return [str(tally.counts[c]) for c in COLUMNS]


def render(report: ChaosReport) -> str:
    header = ["run", "fault", "what happened", "jobs", *COLUMNS, "ran twice+", "slowest delivery"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for run in report.runs:
        total = sum(run.jobs.counts.values())
        lines.append(
            "| "
            + " | ".join(
                [
                    str(run.number),
                    run.fault,
                    run.detail,
                    str(total),
                    *_cells(run.jobs),
                    str(run.retried),
                    f"{run.slowest:.1f} s",
                ]
            )
            + " |"
        )
    lines.append("")
    header = ["challenge", "scheduler faults at deadlines", "entries", "", *COLUMNS]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for c in report.challenges:
        faults = "; ".join(
            f"{f.deadline} {f.offset_s:+.1f} s, {'kill -9' if f.hard else 'SIGTERM'}, down {f.down_s:.1f} s"
            for f in c.deadline_faults
        )
        for name, tally in (("votes", c.votes), ("announcements", c.announcements)):
            lines.append(
                "| " + " | ".join([str(c.number), faults, str(c.entries), name, *_cells(tally)]) + " |"
            )
    lines.append("")
    verdict = "PASS" if report.lost == 0 and report.duplicated == 0 and not report.problems else "FAIL"
    lines.append(
        f"{verdict}: {len(report.runs)} runs, {report.lost} lost, {report.duplicated} duplicated, "
        f"{report.seconds:.0f} s (logs in {report.workdir})"
    )
    for problem in report.problems:
        lines.append(f"  - {problem}")
    return "\n".join(lines)


def as_json(report: ChaosReport) -> dict[str, Any]:
    return {
        "runs": [
            {
                "run": r.number,
                "fault": r.fault,
                "detail": r.detail,
                "jobs": dict(r.jobs.counts),
                "retried": r.retried,
                "slowest_delivery_s": round(r.slowest, 2),
            }
            for r in report.runs
        ],
        "challenges": [
            {
                "challenge": c.number,
                "entries": c.entries,
                "votes": dict(c.votes.counts),
                "announcements": dict(c.announcements.counts),
                "deadline_faults": [f.__dict__ for f in c.deadline_faults],
                "error": c.error,
            }
            for c in report.challenges
        ],
        "lost": report.lost,
        "duplicated": report.duplicated,
        "problems": report.problems,
        "seconds": round(report.seconds, 1),
    }
