"""Delivery with the S3 store: while the bucket's server is unreachable a finished job is not sent
without its files (it stays undelivered, the reason logged in one line); once the store is back, the
bot's next backlog pass delivers it with them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.app import AtelierBot
from bot.db.status import JobStatus
from bot.sandbox import SandboxServer
from config.settings import Settings
from tests.bot.e2e.conftest import wait_for_job
from tests.helpers.s3 import aws_credentials, new_bucket, raw_client, with_s3_store
from tests.polling import wait_until
from tests.services import MotoServer
from wire.contract import JobResult, Outcome, ResultEvent
from wire.events import EventPublisher

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 2000


@pytest.fixture
def s3_server(tmp_path: Path) -> Iterator[MotoServer]:
    with aws_credentials():
        server = MotoServer(tmp_path / "moto.log")
        server.start()
        yield server
        server.stop()


@pytest.fixture
def settings(settings: Settings, s3_server: MotoServer) -> Settings:
    return with_s3_store(settings, s3_server, new_bucket(s3_server), "e2e")


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row.get("components", [])]


async def test_a_result_waits_for_its_files_while_the_store_is_away(
    bot: AtelierBot, sandbox: SandboxServer, s3_server: MotoServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.delivery.deliverer")
    handle = await sandbox.send_slash_command("imagine", {"prompt": "a lighthouse"})
    queued = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == (handle.original_message_id or 0) and bool(custom_ids(m)), 10
    )
    job_id = custom_ids(queued)[0].rsplit(":", 1)[1]
    store = bot.runtime.store
    ref = store.put(job_id, "lighthouse.png", "image/png", "image", PNG)

    s3_server.stop()  # the store goes away before the result arrives
    events = EventPublisher(redis.Redis.from_url(bot.settings.redis_url), bot.settings.events.stream, 1000)
    events.publish(
        ResultEvent(result=JobResult(job_id=job_id, status=Outcome.SUCCEEDED, artifacts=(ref,), worker="w"))
    )
    await wait_until(lambda: "its files cannot be read" in caplog.text, 30)
    assert "could not reach the S3 store" in caplog.text and "Traceback" not in caplog.text
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.SUCCEEDED, 10)
    assert record.delivered_at is None  # not sent without its file

    s3_server.start()  # back on the same address (moto starts empty: the bucket and file again)
    bucket = bot.settings.artifacts.s3.bucket
    assert bucket is not None

    raw_client(s3_server).create_bucket(Bucket=bucket)
    assert store.put(job_id, "lighthouse.png", "image/png", "image", PNG).key == ref.key
    await bot.deliverer.deliver_backlog()  # the pass the bot runs every minute
    record = await wait_for_job(bot, job_id, lambda r: r.status is JobStatus.DELIVERED, 15)
    final = await sandbox.wait_for_message(
        lambda m: int(m["id"]) == int(queued["id"]) and bool(m.get("attachments")), 10
    )
    assert [a["filename"] for a in final["attachments"]] == ["lighthouse.png"]
