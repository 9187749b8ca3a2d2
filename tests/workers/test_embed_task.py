"""The embedding task: a JSON request in, the vectors out on the event stream (as JSON), malformed
requests dropped; registered on its own queue."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import redis

from config.settings import Settings
from wire.contract import EmbeddedEvent, EmbedItem, EmbedRequest, parse_event
from wire.routing import EMBED_QUEUE, EMBED_TASK, ROUTES
from workers.app import create_worker_app
from workers.runner import Services
from workers.tasks.embed import embed_items

pytestmark = pytest.mark.slow


class FakeTask:
    def __init__(self, services: Services) -> None:
        self.app = self
        self._services = services

    def services(self) -> Services:
        return self._services


def stream(client: redis.Redis, settings: Settings) -> list[Any]:
    entries: Any = client.xrange(settings.events.stream)
    return [parse_event(fields[b"event"]) for _, fields in entries]


def test_vectors_go_back_on_the_event_stream(settings: Settings, redis_client: redis.Redis) -> None:
    request = EmbedRequest(
        guild_id=7,
        items=(
            EmbedItem(item_id="a" * 32, text="image: a lighthouse at dusk"),
            EmbedItem(item_id="b", text="music: reel"),
        ),
    )
    embed_items(FakeTask(Services.from_settings(settings)), request.model_dump(mode="json"))  # type: ignore[arg-type]
    (event,) = stream(redis_client, settings)
    assert isinstance(event, EmbeddedEvent)
    assert (
        event.request_id == request.request_id and event.guild_id == 7 and event.model == "all-MiniLM-L6-v2"
    )
    assert [v.item_id for v in event.vectors] == ["a" * 32, "b"]
    assert all(abs(np.linalg.norm(v.vector) - 1.0) < 1e-3 and len(v.vector) == 384 for v in event.vectors)


def test_a_malformed_request_is_dropped(settings: Settings, redis_client: redis.Redis) -> None:
    embed_items(FakeTask(Services.from_settings(settings)), {"guild_id": "x", "items": []})  # type: ignore[arg-type]
    assert stream(redis_client, settings) == []


def test_the_task_is_registered_on_its_own_queue(settings: Settings) -> None:
    app = create_worker_app(settings)
    assert EMBED_TASK in app.tasks and ROUTES[EMBED_TASK] == {"queue": EMBED_QUEUE}
