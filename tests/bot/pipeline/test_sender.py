"""BrokerSender on a real Redis broker: messages first, then one round trip of enqueued marks."""

from __future__ import annotations

import asyncio
import json

import redis

from bot.pipeline.sender import BrokerSender
from config.settings import Settings, load_settings
from wire import keys
from wire.broker import create_producer
from wire.contract import TextJob
from wire.routing import queue_for


async def test_a_burst_of_jobs_is_sent_and_marked(settings: Settings, redis_client: redis.Redis) -> None:
    sender = BrokerSender(
        create_producer(settings.redis_url, settings.visibility_timeout_s), redis_client, ttl_s=60
    )
    jobs = [TextJob(options={"prompt": f"poem {i}"}) for i in range(50)]
    await asyncio.gather(*(sender.send(job) for job in jobs))
    await sender.close()
    messages = [json.loads(raw) for raw in redis_client.lrange(queue_for("text"), 0, -1)]
    assert sorted(m["headers"]["id"] for m in messages) == sorted(job.id for job in jobs)
    # Celery's logs and monitors show the job, never the member's prompt
    assert all(m["headers"]["argsrepr"] == f"(text job {m['headers']['id']})" for m in messages)
    assert not any("poem" in m["headers"]["argsrepr"] + m["headers"]["kwargsrepr"] for m in messages)
    assert all(redis_client.get(keys.enqueued_key(job.id)) == b"1" for job in jobs)
    assert 0 < redis_client.ttl(keys.enqueued_key(jobs[0].id)) <= 60


async def test_an_unreachable_broker_is_an_error_and_leaves_no_mark(
    settings: Settings, redis_client: redis.Redis
) -> None:
    nowhere = load_settings(redis_url="redis://127.0.0.1:1/0", database_url=settings.database_url)
    app = create_producer(nowhere.redis_url, nowhere.visibility_timeout_s)
    app.conf.broker_transport_options = {**app.conf.broker_transport_options, "max_retries": 0}
    app.conf.task_publish_retry = False
    sender = BrokerSender(app, redis_client, ttl_s=60)
    job = TextJob(options={"prompt": "lost?"})
    try:
        await sender.send(job)
    except Exception as error:  # kombu's OperationalError, or redis's ConnectionError
        assert "connect" in str(error).lower() or "refused" in str(error).lower()
    else:
        raise AssertionError("a send to an unreachable broker succeeded")
    finally:
        await sender.close()
    assert redis_client.get(keys.enqueued_key(job.id)) is None
