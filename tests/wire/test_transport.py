"""The broker transport: kombu's Redis transport, with one client per channel, on a real Redis."""

from __future__ import annotations

import redis
from kombu import Connection, Exchange, Queue
from kombu.transport import redis as kombu_redis

from config.settings import Settings
from wire import transport
from wire.broker import create_producer


def test_redis_brokers_use_it_and_tls_brokers_keep_kombus(settings: Settings) -> None:
    assert (
        create_producer(settings.redis_url, settings.visibility_timeout_s)
        .connection_for_write()
        .transport_cls
        == transport.NAME
    )
    tls = settings.model_copy(update={"redis_url": "rediss://127.0.0.1:6380/0"})
    assert (
        create_producer(tls.redis_url, tls.visibility_timeout_s).conf.broker_transport is None
    )  # kombu picks its own from the scheme


def test_a_channel_reuses_one_client_and_messages_round_trip(
    settings: Settings, redis_client: redis.Redis
) -> None:
    queue = Queue("transport-test", Exchange("transport-test", type="direct"), routing_key="transport-test")
    with Connection(settings.redis_url, transport=transport.NAME) as connection:
        channel = connection.default_channel
        assert isinstance(channel, transport.Channel) and isinstance(channel, kombu_redis.Channel)
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
        producer = connection.Producer(serializer="json")
        for i in range(20):
            producer.publish({"n": i}, exchange=queue.exchange, routing_key="transport-test", declare=[queue])
        received: list[int] = []
        with connection.SimpleQueue(queue) as simple:
            for _ in range(20):
                message = simple.get(timeout=5)
                received.append(message.payload["n"])
                message.ack()
    assert sorted(received) == list(range(20))
    assert redis_client.llen("transport-test") == 0
    assert redis_client.zcard("unacked_index") == 0  # every acknowledgement reached Redis
