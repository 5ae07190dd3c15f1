"""Anomaly baselines: EWMA mean/variance per series key, z-scores, warm-up and hysteresis.

A :class:`Baseline` learns a series. For the first ``warmup`` samples it keeps an exact running
mean/variance (Welford) and never fires; after that it follows an exponentially weighted mean and
variance (``alpha``). Each new value is scored against the baseline *before* the value is learned:
``z = (x - mean) / max(std, min_std)``. It fires when ``|z| > z_threshold`` and, once firing, clears
only when ``|z| <= clear_z`` (hysteresis, so a value hovering at the threshold does not flap).
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
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0  # warm-up: sum of squared deviations (Welford)
    var: float = 0.0  # after warm-up: EWMA variance
    firing: bool = False

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

    @property
    def std(self) -> float:
        return math.sqrt(max(self.var, 0.0))

    def observe(self, value: float) -> Score:
        """Score ``value`` against the baseline, then learn it."""
        warming = self.n < self.warmup
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
        if not warming:
            if not self.firing and abs(z) > self.z_threshold:
                self.firing, transition = True, Transition.FIRED
            elif self.firing and abs(z) <= self.clear_z:
                self.firing, transition = False, Transition.CLEARED
        self._learn(value)
        return Score(value, mean_before, std, z, warming, transition, self.firing)

    def _learn(self, value: float) -> None:
        self.n += 1
        if self.n <= self.warmup:
            delta = value - self.mean
            self.mean += delta / self.n
            self.m2 += delta * (value - self.mean)
            self.var = self.m2 / self.n
            return
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
        return cls(**{**fields, **params})


class BaselineSet:
    """One baseline per series key, all with the same parameters."""

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.series: dict[str, Baseline] = {}
        Baseline(**params)  # validate once

    def observe(self, key: str, value: float) -> Score:
        baseline = self.series.get(key)
        if baseline is None:
            baseline = self.series[key] = Baseline(**self.params)
        return baseline.observe(value)

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
