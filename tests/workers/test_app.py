"""The worker app factory: every task has a route, every queue is declared, JSON only, limits from
the settings it was given (not from the process's environment)."""

from __future__ import annotations

from config.settings import load_settings
from wire.contract import MODALITIES
from wire.routing import ALL_QUEUES, QUEUES, ROUTES, SERVICE_QUEUES, SERVICE_TASKS, TASKS
from workers.app import create_worker_app


def test_every_task_has_a_route_and_every_queue_is_declared() -> None:
    app = create_worker_app(load_settings())
    ours = {name for name in app.tasks if name.startswith("atelier.")}
    assert ours == set(TASKS.values()) | set(SERVICE_TASKS.values())
    declared = {queue.name for queue in app.conf.task_queues}
    for name in ours:
        assert name in ROUTES, f"{name} has no route"
        assert ROUTES[name]["queue"] in declared, f"{name} routes to an undeclared queue"
    assert declared == set(ALL_QUEUES)
    assert set(QUEUES) == set(MODALITIES)
    # service queues (discovery's embeddings) are kept apart from the generation queues
    assert not set(SERVICE_QUEUES.values()) & set(QUEUES.values())


def test_only_json_travels() -> None:
    app = create_worker_app(load_settings())
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1


def test_time_limits_come_from_the_settings_given_and_fit_under_the_visibility_timeout() -> None:
    settings = load_settings(
        visibility_timeout_s=900,
        queues={
            "music": {"soft_time_limit": 11, "time_limit": 12},
            "image": {"soft_time_limit": 21, "time_limit": 22},
            "text": {"soft_time_limit": 31, "time_limit": 32},
        },
    )
    app = create_worker_app(settings)
    assert app.conf.broker_transport_options["visibility_timeout"] == 900
    for modality, (soft, hard) in {"music": (11, 12), "image": (21, 22), "text": (31, 32)}.items():
        task = app.tasks[TASKS[modality]]
        assert (task.soft_time_limit, task.time_limit) == (soft, hard)
    other = create_worker_app(load_settings())  # a second app in the same process keeps its own limits
    assert other.tasks[TASKS["music"]].time_limit == load_settings().queue_limits("music").time_limit
    assert app.tasks[TASKS["music"]].time_limit == 12


def test_each_app_keeps_its_own_settings_and_services() -> None:
    first = create_worker_app(load_settings(redis_url="redis://127.0.0.1:1/0"))
    second = create_worker_app(load_settings(redis_url="redis://127.0.0.1:2/0"))
    assert first.settings.redis_url != second.settings.redis_url
    assert first.services() is first.services()
    assert first.services() is not second.services()
