"""Inhibition with Alertmanager's semantics: a firing source alert mutes matching target alerts that
share the ``equal`` labels (e.g. node down mutes that node's lag and staleness alerts). An alert never
inhibits itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fictra.response.config import InhibitRule
from fictra.response.matchers import matches_all


@dataclass(frozen=True)
class Source:
    alert_id: int
    labels: Mapping[str, str]


class Inhibitor:
    """A Muter over a snapshot of the firing alerts."""

    def __init__(self, rules: Sequence[InhibitRule], firing: Sequence[Source]) -> None:
        self.rules = list(rules)
        self.sources: list[list[Source]] = [
            [s for s in firing if matches_all(rule.source_matchers, s.labels)] for rule in self.rules
        ]

    def mutes(self, labels: Mapping[str, str], *, alert_id: int) -> str | None:
        for i, rule in enumerate(self.rules):
            if not matches_all(rule.target_matchers, labels):
                continue
            for src in self.sources[i]:
                if src.alert_id == alert_id:
                    continue
                if all(src.labels.get(k, "") == labels.get(k, "") for k in rule.equal):
                    return f"inhibited by alert {src.alert_id} (inhibit rule {i})"
        return None
