"""Baselines robust to regime changes (pure): a burst is reported but not learned at full size
(winsorized), a pause makes the baseline warm up again instead of exploding when activity resumes, a
series that never varied cannot fire, and a value hovering at the threshold does not flap."""

from __future__ import annotations

import random

from fictra.monitors.baseline import Baseline, Transition


def noisy(rng: random.Random, n: int, *, level: float = 100.0, spread: float = 10.0) -> list[float]:
    return [rng.gauss(level, spread) for _ in range(n)]


def feed(b: Baseline, values: list[float], *, start: float = 0.0, step: float = 2.0) -> list[Transition]:
    return [b.observe(v, start + i * step).transition for i, v in enumerate(values)]


def test_a_burst_fires_once_and_is_learned_clipped() -> None:
    rng = random.Random(1)
    b = Baseline(warmup=30, z_threshold=5, clear_z=2)
    assert Transition.FIRED not in feed(b, noisy(rng, 60))
    mean, std = b.mean, b.std
    score = b.observe(1e12, 200)
    assert score.transition is Transition.FIRED and score.z > 1e9
    # the burst moved the baseline by at most alpha * 5 std, and the variance stays of the same order
    assert abs(b.mean - mean) <= 0.1 * 5 * std + 1e-9 and b.std < 5 * std
    after = feed(b, noisy(rng, 10), start=202)
    assert after.count(Transition.CLEARED) == 1 and Transition.FIRED not in after


def test_resuming_after_a_pause_warms_up_instead_of_exploding() -> None:
    rng = random.Random(2)
    b = Baseline(warmup=30, z_threshold=5, clear_z=2)
    feed(b, noisy(rng, 60))
    stop = feed(b, [0.0] * 200, start=120)  # a pause: the variance decays to ~0
    assert stop.count(Transition.FIRED) == 1 and stop[-1] is not Transition.FIRED  # activity stopped, once
    assert b.std < 0.01
    resumed = [b.observe(v, 520 + 2 * i) for i, v in enumerate(noisy(rng, 30))]
    assert resumed[0].z > 1e3 and resumed[0].warming_up  # what used to fire at z = 10^11
    assert all(s.transition is not Transition.FIRED for s in resumed)
    assert b.observe(1e6, 700).transition is Transition.FIRED  # once re-warmed it judges again


def test_a_gap_in_block_time_warms_up_again() -> None:
    rng = random.Random(3)
    b = Baseline(warmup=20, z_threshold=4, clear_z=2, pause_after=600)
    feed(b, noisy(rng, 40))
    score = b.observe(1000.0, 80 + 3600)  # the chain was stopped for an hour
    assert score.warming_up and score.transition is Transition.NONE
    quiet = Baseline(warmup=20, z_threshold=4, clear_z=2, pause_after=600)
    feed(quiet, noisy(random.Random(3), 40))
    assert quiet.observe(1000.0, 82).transition is Transition.FIRED  # the same value without a gap


def test_a_series_that_never_varied_cannot_fire_at_its_first_change() -> None:
    b = Baseline(warmup=5, z_threshold=4, clear_z=2, idle_after=100)
    feed(b, [0.0] * 20)
    first = b.observe(7.0, 100)
    assert first.warming_up and first.transition is Transition.NONE


def test_hysteresis_needs_calm_samples_in_a_row() -> None:
    rng = random.Random(4)
    b = Baseline(warmup=30, z_threshold=4, clear_z=2, clear_after=3)
    feed(b, noisy(rng, 60, spread=1.0))
    high = 100.0 + 50 * b.std
    # spikes with two calm samples between them: one alert that stays firing, no flapping
    pattern = [high, 100.0, 100.0] * 5
    transitions = feed(b, pattern, start=200)
    assert transitions.count(Transition.FIRED) == 1 and Transition.CLEARED not in transitions
    assert Transition.CLEARED in feed(b, [100.0] * 3, start=300)  # the third calm sample in a row


def test_state_from_before_the_new_fields_still_loads() -> None:
    old = {"alpha": 0.1, "warmup": 5, "z_threshold": 4.0, "clear_z": 2.0, "min_std": 1e-9, "n": 40}
    old |= {"mean": 10.0, "m2": 0.0, "var": 4.0, "firing": False}
    b = Baseline.from_state(old)
    assert b.varied and b.observe(1000.0).transition is Transition.FIRED
    assert Baseline.from_state(b.to_state()) == b
