"""`celery -A tests.helpers.gated_worker worker`: the real worker app, built exactly as `workers/main.py`
builds it, with the text backend swapped for `tests.helpers.gated.GatedTextBackend` (which gates the
`gated` preset and serves every other text preset with the real backend)."""

from __future__ import annotations

from config.settings import load_settings
from models import registry
from workers.app import create_worker_app

registry.BACKENDS[("text", "transformers")] = "tests.helpers.gated:GatedTextBackend"

app = create_worker_app(load_settings())
