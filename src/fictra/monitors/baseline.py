"""Anomaly baselines: EWMA mean/variance per series key, z-scores, warm-up, winsorizing and hysteresis.

A :class:`Baseline` learns a series. For the first ``warmup`` samples it keeps an exact running
mean/variance (Welford) and never fires; after that it follows an exponentially weighted mean and
variance (``alpha``). Each new value is scored against the baseline *before* the value is learned:
``z = (x - mean) / max(std, min_std)``.

Robust to regime changes:

- **winsorized learning**: after the warm-up a value is learned clipped to ``mean ± winsor_z·std``
  (default ``z_threshold``), so a burst is reported without inflating the variance or dragging the mean
  (ordinary values, inside the band, are learned as they are);
- **warm-up again after a pause**: after ``idle_after`` identical samples in a row (activity stopped — a
  pause, a halted simulator: the variance decays to nothing) the first different value starts
  ``rewarm`` samples of learning without firing; so does a gap of more than ``pause_after`` seconds of
  block time (the chain or the platform stopped). A restart of the platform itself changes nothing:
  the state is persisted with the checkpoint;
- **warm-up needs variation**: a series that never varied has no scale to judge against, so it cannot
  fire before it has varied;
- **hysteresis**: it fires when ``|z| > z_threshold`` and, once firing, clears only after ``clear_after``
  samples in a row with ``|z| <= clear_z``, so a value hovering near the threshold does not flap.

State is a small dict (:meth:`Baseline.to_state`) stored in ``anomaly_baselines`` so it survives restarts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from fictra.alerting.findings import BlockRef, Clear, Finding, Severity
from fictra.errors import ConfigError


class Transition(StrEnum):
    NONE = "none"
    FIRED = "fired"
    CLEARED = "cleared"


@dataclass(frozen=True, slots=True)
class Score:
    value: float
    mean: float
    std: float
    z: float
    warming_up: bool
    transition: Transition
    firing: bool


@dataclass(slots=True)
class Baseline:
    alpha: float = 0.1
    warmup: int = 30
    z_threshold: float = 4.0
    clear_z: float = 2.0
    min_std: float = 1e-9
    winsor_z: float | None = None  # None: z_threshold
    clear_after: int = 3
    rewarm: int | None = None  # None: a third of warmup (at least 3)
    idle_after: int | None = None  # None: warmup
    pause_after: float = 600.0  # seconds of block time
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0  # warm-up: sum of squared deviations (Welford)
    var: float = 0.0  # after warm-up: EWMA variance
    firing: bool = False
    last: float | None = None  # the previous sample
    same: int = 0  # identical samples in a row, up to the previous one
    varied: bool = False  # two different samples seen
    rewarm_left: int = 0  # samples still to learn silently after a pause
    calm: int = 0  # samples in a row within clear_z while firing
    last_at: float | None = None  # block time of the previous sample

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ConfigError(
                f"Anomaly baseline 'alpha' has value {self.alpha}. Use a number between 0 and 1."
            )
        if self.clear_z >= self.z_threshold:
            raise ConfigError(
                f"Anomaly baseline 'clear_z' ({self.clear_z}) must be below "
                f"'z_threshold' ({self.z_threshold})."
            )
        if self.clear_after < 1:
            raise ConfigError(f"Anomaly baseline 'clear_after' has value {self.clear_after}. Use 1 or more.")

    @property
    def std(self) -> float:
        return math.sqrt(max(self.var, 0.0))

    def _paused(self, value: float, at: float | None) -> bool:
        """Activity resumes after ``idle_after`` identical samples, or block time jumped."""
        idle_after = self.idle_after if self.idle_after is not None else self.warmup
        resumed = self.last is not None and value != self.last and self.same >= idle_after
        gap = at is not None and self.last_at is not None and at - self.last_at > self.pause_after
        return resumed or gap

    def observe(self, value: float, at: float | None = None) -> Score:
        """Score ``value`` (seen at block time ``at``, if given) against the baseline, then learn it."""
        if self.n and self._paused(value, at):
            self.rewarm_left = self.rewarm if self.rewarm is not None else max(3, self.warmup // 3)
        warming = self.n < self.warmup or self.rewarm_left > 0 or not self.varied
        std = self.std
        scale = max(std, self.min_std)
        if self.n == 0 or value == self.mean:
            z = 0.0
        elif scale > 0:
            z = (value - self.mean) / scale
        else:  # a perfectly flat baseline and min_std 0: any change is infinitely unusual
            z = math.copysign(math.inf, value - self.mean)
        mean_before = self.mean
        transition = Transition.NONE
        if self.firing:
            self.calm = self.calm + 1 if abs(z) <= self.clear_z else 0
            if self.calm >= self.clear_after:
                self.firing, self.calm, transition = False, 0, Transition.CLEARED
        elif not warming and abs(z) > self.z_threshold:
            self.firing, self.calm, transition = True, 0, Transition.FIRED
        self._learn(value, clip=not warming)
        if self.rewarm_left > 0:
            self.rewarm_left -= 1
        self.same = self.same + 1 if value == self.last else 1
        self.varied = self.varied or (self.last is not None and value != self.last)
        self.last = value
        if at is not None:
            self.last_at = at
        return Score(value, mean_before, std, z, warming, transition, self.firing)

    def _learn(self, value: float, *, clip: bool = False) -> None:
        self.n += 1
        if self.n <= self.warmup:
            delta = value - self.mean
            self.mean += delta / self.n
            self.m2 += delta * (value - self.mean)
            self.var = self.m2 / self.n
            return
        if clip:  # winsorized: a burst is reported, not learned at full size
            band = (self.winsor_z if self.winsor_z is not None else self.z_threshold) * self.std
            value = min(max(value, self.mean - band), self.mean + band)
        diff = value - self.mean
        incr = self.alpha * diff
        self.mean += incr
        self.var = (1 - self.alpha) * (self.var + diff * incr)

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any], **params: Any) -> Baseline:
        """Restore a baseline; ``params`` (alpha, warmup, thresholds from the config) override stored ones."""
        fields = {k: v for k, v in state.items() if k in cls.__dataclass_fields__}
        if "varied" not in fields:  # stored before 'varied' existed: a learned variance means it varied
            fields["varied"] = float(fields.get("var", 0.0)) > 0
        return cls(**{**fields, **params})


class BaselineSet:
    """One baseline per series key, all with the same parameters."""

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.series: dict[str, Baseline] = {}
        Baseline(**params)  # validate once

    def observe(self, key: str, value: float, at: float | None = None) -> Score:
        baseline = self.series.get(key)
        if baseline is None:
            baseline = self.series[key] = Baseline(**self.params)
        return baseline.observe(value, at)

    def to_state(self) -> dict[str, dict[str, Any]]:
        return {key: b.to_state() for key, b in self.series.items()}

    def load_state(self, state: dict[str, dict[str, Any]]) -> None:
        self.series = {key: Baseline.from_state(s, **self.params) for key, s in state.items()}


def signal(
    score: Score,
    *,
    monitor: str,
    metric: str,
    series: str,
    severity: Severity,
    network: str,
    block: BlockRef | None = None,
    confirmations: int = 0,
) -> Finding | Clear | None:
    """The Finding (on FIRED) or Clear (on CLEARED) a score transition means; None otherwise."""
    labels = {"metric": metric, "series": series}
    if score.transition is Transition.CLEARED:
        return Clear(monitor=monitor, labels=labels, network=network, block=block)
    if score.transition is not Transition.FIRED:
        return None
    direction = "above" if score.z > 0 else "below"
    return Finding(
        monitor=monitor,
        severity=severity,
        summary=(
            f"{metric} for {series} is {score.value:g}, {direction} its baseline "
            f"{score.mean:.4g} ± {score.std:.3g} (z={score.z:.1f})"
        ),
        labels=labels,
        network=network,
        block=block,
        evidence={
            "observed": score.value,
            "expected_mean": score.mean,
            "expected_std": score.std,
            "z": score.z,
        },
        confirmations=confirmations,
    )
