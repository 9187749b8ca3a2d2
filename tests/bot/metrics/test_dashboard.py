"""The sample Grafana dashboard and docs/metrics.md name only metrics Atelier exports, and the docs
name every one of them."""

from __future__ import annotations

import json
import re

from prometheus_client import Counter, Gauge, Histogram

from bot.metrics import families as bot_families
from bot.metrics.queues import Depths, QueueDepthCollector
from tests.services import ROOT
from workers.metrics import families as worker_families

DASHBOARD = ROOT / "docs" / "grafana" / "atelier-dashboard.json"
DOCS = ROOT / "docs" / "metrics.md"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def exported() -> dict[str, set[str]]:
    """Each exported family's name → the names its samples carry."""
    metrics = [m for m in vars(bot_families).values() if isinstance(m, Counter | Gauge | Histogram)]
    metrics += list(vars(worker_families()).values())
    found = {
        family.name: {family.name + suffix for suffix in SUFFIXES[family.type]}
        for metric in metrics
        for family in metric.describe()
    }
    collector = QueueDepthCollector()
    collector.depths = Depths({("text", "queued"): 1}, {("1", "queued"): 1}, {"gen.text": 0}, 1.0)
    found.update({family.name: {family.name} for family in collector.collect()})
    return found


def test_the_dashboard_uses_a_prometheus_datasource_variable_and_known_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    samples = set().union(*exported().values())
    used: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
            names = set(re.findall(r"\batelier_[a-z_]+", target["expr"]))
            assert names <= samples, (panel["title"], names - samples)
            assert names or "process_resident_memory_bytes" in target["expr"], panel["title"]
            used |= names
    families = exported()
    unused = {name for name, names in families.items() if not names & used}
    assert unused <= {"atelier_queue_depth_updated_timestamp_seconds", "atelier_worker_jobs_republished"}


def test_the_docs_name_every_metric() -> None:
    text = DOCS.read_text()
    for name, samples in exported().items():
        shown = name + "_total" if name + "_total" in samples else name
        assert f"`{shown}`" in text, shown
