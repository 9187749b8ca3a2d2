"""The page's job panel as the bot feeds it (`bot.cli.sandbox_status`), and what `atelier bot` prints."""

from __future__ import annotations

from datetime import timedelta

from bot.cli.discord_cmds import sandbox_banner
from bot.cli.sandbox_status import summarise
from bot.db.status import JobStatus
from tests.bot.delivery.test_render import NOW, record
from wire.contract import JobResult, MusicJob, TextJob


def test_jobs_are_placed_on_their_queue_their_worker_or_among_the_finished() -> None:
    waiting = record(TextJob(options={"prompt": "first"}), None, status=JobStatus.WAITING)
    queued = record(
        TextJob(options={"prompt": "second"}),
        None,
        status=JobStatus.QUEUED,
        created_at=NOW + timedelta(seconds=1),
    )
    running = record(MusicJob(), None, worker="vm.local:4242")
    elsewhere = record(TextJob(options={"prompt": "lost"}), None, worker="other:1")
    done_job = TextJob(options={"prompt": "done"})
    done = record(done_job, JobResult(job_id=done_job.id, status=JobStatus.SUCCEEDED))
    workers = [
        {"name": "music@vm.local", "queues": ["gen.music"], "pids": [4241, 4242]},
        {"name": "text@vm.local", "queues": ["gen.text"], "pids": [5000]},
    ]
    panel = summarise([done, elsewhere, running, queued, waiting], workers)
    text_queue = next(q for q in panel["queues"] if q["name"] == "gen.text")
    assert [j["prompt"] for j in text_queue["jobs"]] == ["first", "second"]  # oldest first
    assert "admission" in text_queue["jobs"][0]["where"] and "broker" in text_queue["jobs"][1]["where"]
    music, text = panel["workers"]
    assert [j["id"] for j in music["running"]] == [running.id] and text["running"] == []
    assert music["running"][0]["prompt"]  # a music job is described by its options
    assert [j["id"] for j in panel["unassigned"]] == [elsewhere.id]
    assert [j["id"] for j in panel["recent"]] == [done.id]
    assert panel["workers_note"] is None and summarise([], None)["workers_note"]


def test_the_page_is_printed_first_and_a_wider_bind_is_called_out() -> None:
    local = sandbox_banner("http://127.0.0.1:8765/", "http://127.0.0.1:8765", "127.0.0.1")
    assert local.splitlines()[0].startswith("Atelier sandbox: open http://127.0.0.1:8765/")
    assert "loopback" not in local
    wide = sandbox_banner("http://127.0.0.1:8765/", "http://0.0.0.0:8765", "0.0.0.0")
    assert wide.splitlines()[0].startswith("Atelier sandbox: open http://127.0.0.1:8765/")
    assert "binds to loopback (127.0.0.1) by default" in wide and "no authentication" in wide
