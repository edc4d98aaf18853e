"""Scraping `/metrics` as Prometheus would: with the token, parsed by prometheus-client's
own parser (so the text is valid exposition format), samples keyed by name and labels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client.parser import text_string_to_metric_families

TOKEN = "scrape-me"  # pragma: allowlist secret


class Scrape:
    """One scrape: its text and its samples."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        self.families: set[str] = set()
        for family in text_string_to_metric_families(text):
            self.families.add(family.name)
            for sample in family.samples:
                key = (sample.name, frozenset(sample.labels.items()))
                self.samples[key] = sample.value

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 when it does not exist (yet)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def grew(self, before: Scrape, name: str, **labels: str) -> float:
        """How much a sample grew since `before`."""
        return self.value(name, **labels) - before.value(name, **labels)


Scraper = Callable[[], Awaitable[Scrape]]
