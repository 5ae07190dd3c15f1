"""Anomaly baselines: warm-up, firing on a spike, hysteresis, clearing, persistence across restarts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.alerting.findings import Clear, Finding, Severity
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.errors import ConfigError
from fictra.monitors.baseline import Baseline, BaselineSet, Transition, signal
from fictra.monitors.baseline_store import load_baselines, save_baselines

NORMAL = [10.0, 12.0, 11.0, 9.0, 10.0, 11.0, 12.0, 10.0, 9.0, 11.0] * 3


def test_no_alert_during_warm_up_even_for_wild_values() -> None:
    b = Baseline(warmup=5, z_threshold=3, clear_z=1)
    scores = [b.observe(v) for v in [1, 1000, 1, 1000, 1]]
    assert all(s.warming_up for s in scores)
    assert all(s.transition is Transition.NONE for s in scores)
    assert not b.firing


def test_fires_on_a_spike_after_warm_up_and_clears_when_back_in_band() -> None:
    b = Baseline(alpha=0.1, warmup=20, z_threshold=4, clear_z=2)
    for v in NORMAL:
        assert b.observe(v).transition is Transition.NONE
    spike = b.observe(100.0)
    assert spike.transition is Transition.FIRED and spike.z > 4 and spike.firing
    assert b.observe(100.0).transition is Transition.NONE  # still firing: one alert, not one per sample
    transitions = [b.observe(v).transition for v in NORMAL]
    assert transitions.count(Transition.CLEARED) == 1
    assert not b.firing


def test_hysteresis_keeps_firing_between_clear_z_and_threshold() -> None:
    b = Baseline(alpha=0.01, warmup=30, z_threshold=4, clear_z=1)
    for v in NORMAL:
        b.observe(v)
    assert b.observe(10.5 + 6 * b.std).transition is Transition.FIRED
    middle = b.observe(b.mean + 2.5 * b.std)  # below the threshold, above clear_z
    assert middle.transition is Transition.NONE and middle.firing
    calm = [b.observe(b.mean).transition for _ in range(3)]  # clears after clear_after (3) calm samples
    assert calm == [Transition.NONE, Transition.NONE, Transition.CLEARED]


def test_negative_spikes_fire_too_and_signals_carry_evidence() -> None:
    b = Baseline(warmup=30, z_threshold=4, clear_z=2)
    for v in NORMAL:
        b.observe(v)
    score = b.observe(-50.0)
    f = signal(
        score,
        monitor="tx-anomaly",
        metric="tx_count",
        series="devnet",
        severity=Severity.P2,
        network="devnet",
    )
    assert isinstance(f, Finding)
    assert "below its baseline" in f.summary and f.labels == {"metric": "tx_count", "series": "devnet"}
    assert f.evidence["observed"] == -50.0 and float(str(f.evidence["z"])) < -4
    for v in NORMAL:
        s = b.observe(v)
        if s.transition is Transition.CLEARED:
            c = signal(
                s,
                monitor="tx-anomaly",
                metric="tx_count",
                series="devnet",
                severity=Severity.P2,
                network="devnet",
            )
            assert isinstance(c, Clear) and c.fingerprint == f.fingerprint
            break
    else:
        pytest.fail("baseline never cleared")
    assert (
        signal(b.observe(10), monitor="m", metric="x", series="s", severity=Severity.P2, network="n") is None
    )


def test_nearly_flat_series_uses_min_std() -> None:
    b = Baseline(warmup=6, z_threshold=3, clear_z=1, min_std=0.5)
    for v in (7.0, 7.02, 7.0, 7.02, 7.0, 7.02):
        b.observe(v)
    assert b.observe(7.4).transition is Transition.NONE  # z = 0.8: the std is below min_std
    assert b.observe(9.0).transition is Transition.FIRED  # z = 3.9


def test_a_series_that_never_varied_cannot_fire_and_never_divides_by_zero() -> None:
    # A constant series (an idle contract, a pause) has no spread to judge by: the first change after it
    # starts a new warm-up instead of an alert with z = inf (issue 12: z = 5e11 after a pause).
    b = Baseline(warmup=3, z_threshold=3, clear_z=1, min_std=0.0)
    for _ in range(3):
        b.observe(5.0)
    assert b.observe(5.0).z == 0.0
    spike = b.observe(6.0)
    assert spike.transition is Transition.NONE and spike.warming_up and not spike.firing


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=re.escape("'clear_z' (5.0) must be below 'z_threshold' (4.0)")):
        Baseline(z_threshold=4.0, clear_z=5.0)
    with pytest.raises(ConfigError, match=re.escape("'alpha' has value 1.5")):
        BaselineSet(alpha=1.5)


def test_state_round_trips_and_config_overrides_parameters() -> None:
    s = BaselineSet(warmup=10, z_threshold=4, clear_z=2)
    for v in NORMAL:
        s.observe("a", v)
    s.observe("b", 1.0)
    restored = BaselineSet(warmup=10, z_threshold=5, clear_z=2)
    restored.load_state(s.to_state())
    assert restored.series["a"].mean == s.series["a"].mean and restored.series["a"].n == 30
    assert restored.series["a"].z_threshold == 5  # the config wins over the stored parameter
    assert restored.observe("a", 100.0).transition is Transition.FIRED


async def test_baselines_survive_a_restart_in_the_database(engine: AsyncEngine, clock: FakeClock) -> None:
    s = BaselineSet(warmup=10)
    for v in NORMAL:
        s.observe("devnet", v)
    async with session_factory(engine)() as session:
        await save_baselines(session, monitor="tx-anomaly", states=s.to_state(), clock=clock)
        await session.commit()
    s.observe("devnet", 11.0)
    s.observe("other", 3.0)
    async with session_factory(engine)() as session:
        await save_baselines(
            session, monitor="tx-anomaly", states=s.to_state(), clock=clock
        )  # update + insert
        await session.commit()
    async with session_factory(engine)() as session:
        state = await load_baselines(session, monitor="tx-anomaly")
        assert await load_baselines(session, monitor="other-monitor") == {}
    fresh = BaselineSet(warmup=10)
    fresh.load_state(state)
    assert fresh.series["devnet"].n == 31 and fresh.series["other"].n == 1
    assert fresh.series["devnet"].mean == pytest.approx(s.series["devnet"].mean)
