"""Supply analysis from transfers: mints, burns, holders, top-10 share, Gini against a direct computation."""

from __future__ import annotations

import random

import pytest

from fictra.economics.fees import ZERO, Transfer
from fictra.economics.supply import analyse_supply, gini


def _gini_by_pairs(values: list[int]) -> float:
    """Mean absolute difference over twice the mean (the definition)."""
    n, mean = len(values), sum(values) / len(values)
    return sum(abs(a - b) for a in values for b in values) / (2 * n * n * mean)


def test_gini_matches_the_definition_and_its_bounds() -> None:
    rng = random.Random(3)
    values = [rng.randint(1, 10**6) for _ in range(300)]
    assert gini(values) == pytest.approx(_gini_by_pairs(values), rel=1e-9)
    assert gini([5, 5, 5, 5]) == pytest.approx(0.0, abs=1e-12)
    assert gini([0, 0, 0, 100]) == pytest.approx(0.0)  # one positive holder: zeros are not holders
    assert gini([]) == 0.0


def test_mints_burns_holders_concentration_and_velocity() -> None:
    people = [f"0x{i:040x}" for i in range(1, 16)]
    opening = {p: 100 for p in people[:12]}  # 1,200
    transfers = [Transfer(ZERO, people[12], 300), Transfer(ZERO, people[13], 100)]  # mints: 400
    transfers += [Transfer(people[0], people[1], 50), Transfer(people[2], people[3], 100)]  # volume 150
    transfers += [Transfer(people[4], ZERO, 100)]  # burn: people[4] empty
    a = analyse_supply(opening, transfers)
    assert (a.supply_start, a.supply_end, a.minted, a.burned, a.mints, a.burns) == (
        1200,
        1500,
        400,
        100,
        2,
        1,
    )
    assert a.holders == 12 and a.volume == 150 and a.velocity == pytest.approx(150 / 1350)
    held = sorted([50, 150, 0, 200, 0, *[100] * 7, 300, 100], reverse=True)
    assert a.top10_share == pytest.approx(sum(held[:10]) / 1500)
    assert a.gini == pytest.approx(_gini_by_pairs([b for b in held if b > 0]))
