"""The content-embedding task (discovery): items' texts in, unit vectors out on the event stream.

It runs on its own queue (`wire.routing.EMBED_QUEUE`), never behind generation jobs; the bot
stores the vectors and adds them to the server's nearest-neighbour index. Nothing here touches the
database. A request that fails is not retried here: the bot asks again for items still without a
vector after a while (`discovery.embed_timeout_s`).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from pydantic import ValidationError

from models.embed.encoder import MODEL_NAME, EncoderUnavailable, get_encoder
from wire.contract import EmbeddedEvent, EmbeddedVector, EmbedRequest
from workers.tasks.common import task_services

log = logging.getLogger(__name__)

DECIMALS = 6
"""Vectors travel as JSON numbers; six decimals keep cosines exact to about 1e-6."""


def embed(request: EmbedRequest) -> EmbeddedEvent:
    """Embed a request's texts with all-MiniLM-L6-v2."""
    vectors = get_encoder().encode([item.text for item in request.items])
    return EmbeddedEvent(
        request_id=request.request_id,
        guild_id=request.guild_id,
        model=MODEL_NAME,
        vectors=tuple(
            EmbeddedVector(item_id=item.item_id, vector=tuple(round(float(x), DECIMALS) for x in vector))
            for item, vector in zip(request.items, vectors, strict=True)
        ),
    )


def embed_items(task: Task, payload: dict[str, Any]) -> None:
    """Embed the items of one request and publish the vectors."""
    try:
        request = EmbedRequest.model_validate(payload)
    except ValidationError as error:
        log.error("dropping a malformed embedding request: %s", error)
        return
    try:
        event = embed(request)
    except EncoderUnavailable as error:
        log.error("cannot embed: %s", error)
        return
    task_services(task).events.publish(event)
    log.info("embedded %d items for server %s", len(event.vectors), request.guild_id)
