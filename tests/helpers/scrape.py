"""Reading a process's `/metrics` over HTTP, parsed by prometheus_client's own parser."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    """One scrape: every sample by name and labels, and each family's type."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]
    types: dict[str, str]

    def value(self, metric: str, /, **labels: str) -> float | None:
        """The sample with exactly these labels, or None."""
        return self.samples.get((metric, frozenset(labels.items())))

    def total(self, metric: str, /, **labels: str) -> float:
        """The sum of the samples whose labels include these (0 when there are none)."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == metric and wanted <= ls)

    def labelsets(self, metric: str) -> list[dict[str, str]]:
        return [dict(ls) for (n, ls) in self.samples if n == metric]


def scrape(port: int, host: str = "127.0.0.1") -> Scrape | None:
    """GET http://host:port/metrics and parse it; None while nothing answers there."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(samples, types)
