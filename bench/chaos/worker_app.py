"""`celery -A bench.chaos.worker_app worker`: the production worker app, built as `workers/main.py`
builds it, with the text backend serving the `chaos` preset from `bench.chaos.backend`."""

from __future__ import annotations

from config.settings import load_settings
from models import registry
from workers.app import create_worker_app

registry.BACKENDS[("text", "transformers")] = "bench.chaos.backend:ChaosTextBackend"

app = create_worker_app(load_settings())
