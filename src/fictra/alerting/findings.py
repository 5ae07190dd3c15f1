"""A :class:`Finding` is one detector's observation; the alert pipeline turns findings into alerts.

Monitors emit ``Finding`` values when a condition holds and ``Clear`` values when a condition they
raised earlier no longer holds (so the alert resolves). The fingerprint identifies the *condition*
(monitor + subject labels), not the occurrence: a condition that keeps firing is one alert.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    P0 = "P0"  # critical: acknowledge within 15 minutes
    P1 = "P1"  # high: 1 hour
    P2 = "P2"  # medium: 4 hours
    P3 = "P3"  # low: 24 hours


def fingerprint(monitor: str, labels: dict[str, str]) -> str:
    """Stable id of a condition: the monitor name plus its identifying labels, order-independent."""
    canonical = json.dumps({"monitor": monitor, "labels": labels}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class BlockRef:
    number: int
    hash: str


@dataclass(frozen=True, slots=True)
class Finding:
    """``labels`` identify the condition (they make the fingerprint); ``evidence`` describes this
    occurrence (observed vs expected values, tx hashes...). ``block`` is None for findings not tied to
    a block (e.g. an unreachable endpoint), which need no confirmations and cannot be retracted."""

    monitor: str
    severity: Severity
    summary: str
    labels: dict[str, str]
    network: str = "devnet"
    block: BlockRef | None = None
    tx_hashes: tuple[str, ...] = ()
    evidence: dict[str, object] = field(default_factory=dict)
    confirmations: int = 0  # confirmations the rule requires before the alert is confirmed
    # identifies the occurrence when the sender repeats it (an inbound alert's startsAt): a finding whose
    # key equals the alert's latest occurrence key is the same occurrence delivered again, not a new one
    occurrence_key: str | None = None
    # the condition's identity when the sender defines it (Alertmanager's label-set fingerprint);
    # None: the fingerprint of the monitor and labels
    identity: str | None = None
    # a one-off event whose every new occurrence is told (an event rule's ``notify_repeats``): while its
    # alert is already firing, a fresh occurrence yields a ``repeated`` change instead of only a count
    notify_repeats: bool = False

    @property
    def fingerprint(self) -> str:
        if self.identity is not None:
            return self.identity
        return fingerprint(self.monitor, {"network": self.network, **self.labels})


@dataclass(frozen=True, slots=True)
class Clear:
    """The condition identified by (monitor, labels) no longer holds."""

    monitor: str
    labels: dict[str, str]
    network: str = "devnet"
    block: BlockRef | None = None
    identity: str | None = None  # as Finding.identity

    @property
    def fingerprint(self) -> str:
        if self.identity is not None:
            return self.identity
        return fingerprint(self.monitor, {"network": self.network, **self.labels})
