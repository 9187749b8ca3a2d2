"""Every task has a route, every route's queue is declared, JSON only."""

from __future__ import annotations

from workers.app import TASK_MODULES, app
from workers.contract import MODALITIES
from workers.routing import QUEUES, ROUTES, TASKS


def test_every_task_has_a_route_and_every_queue_is_declared() -> None:
    app.loader.import_default_modules()
    for module in TASK_MODULES:
        __import__(module)
    ours = {name for name in app.tasks if name.startswith("atelier.")}
    assert ours == set(TASKS.values())
    declared = {queue.name for queue in app.conf.task_queues}
    for name in ours:
        assert name in ROUTES, f"{name} has no route"
        assert ROUTES[name]["queue"] in declared, f"{name} routes to an undeclared queue"
    assert declared == set(QUEUES.values())
    assert set(QUEUES) == set(MODALITIES)


def test_only_json_travels() -> None:
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1


def test_time_limits_come_from_config_and_fit_under_the_visibility_timeout() -> None:
    from config.settings import get_settings

    settings = get_settings()
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    for modality in MODALITIES:
        task = app.tasks[TASKS[modality]]
        limits = settings.queue_limits(modality)
        assert (task.soft_time_limit, task.time_limit) == (limits.soft_time_limit, limits.time_limit)
        assert task.time_limit < visibility
