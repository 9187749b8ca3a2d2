"""What `celery -A workers.main worker` runs: the worker app built from this process's settings.

The one module that reads settings at import, because Celery's command line needs an app object;
everything else builds its app with `workers.app.create_worker_app(settings)`.
"""

from __future__ import annotations

from config.settings import load_settings
from workers.app import create_worker_app

app = create_worker_app(load_settings())
