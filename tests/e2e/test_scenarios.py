"""Each devnet scenario raises the expected alert, at the expected severity, within a stated number of
blocks; reversible scenarios' alerts resolve after ``--undo``.

The platform runs in-process with the shipped default config (config/) against a real Anvil; the
scenarios are the ones `fictra devnet scenario NAME` applies. Blocks are mined on demand, so "within N
blocks" is counted in blocks, not seconds.
"""

from __future__ import annotations

import pytest

from e2e.harness import Running
from fictra.alerting.schemas import AlertView

pytestmark = [pytest.mark.e2e]


def matcher(monitor: str, severity: str, **labels: str):  # type: ignore[no-untyped-def]
    def match(alert: AlertView) -> bool:
        return (
            alert.monitor == monitor
            and alert.severity == severity
            and all(alert.labels.get(k) == v for k, v in labels.items())
        )

    return match


# scenario -> (monitor, severity, labels, blocks within which it must fire, resolves after undo)
CASES = {
    "pause": ("contract-status", "P0", {"condition": "paused"}, 1, True),
    "trading-halt": ("contract-status", "P0", {"condition": "trading_halted"}, 1, True),
    "reserve-drain": ("contract-status", "P0", {"condition": "reserve_breach"}, 1, True),
    "unauthorized-role-grant": (
        "contract-status",
        "P0",
        {"contract": "PaymentToken", "condition": "unauthorized_role_grant"},
        1,
        True,
    ),
    "oracle-stall": ("commodity-oracles", "P1", {"feed": "Feed:BRENT", "condition": "stale"}, 2, True),
    "gas-spike": ("gas-market", "P2", {"condition": "base_fee"}, 2, True),
    "oracle-deviation": (
        "commodity-oracles",
        "P2",
        {"feed": "Feed:BRENT", "condition": "node_deviation"},
        1,
        False,
    ),
    "oracle-jump": ("commodity-oracles", "P1", {"feed": "Feed:BRENT", "condition": "round_jump"}, 1, False),
    "large-transfer": ("large-pt-transfer", "P2", {"contract": "PaymentToken"}, 1, False),
    "fee-change": ("pt-fee-changed", "P1", {"contract": "PaymentToken"}, 1, False),
    "failed-tx-burst": ("tx-activity", "P2", {"condition": "error_rate"}, 1, False),
}


async def test_pause_is_one_p0_naming_every_paused_contract_and_resolves_on_undo(platform: Running) -> None:
    await platform.settle()
    before = {a.id for a in await platform.alerts()}  # other scenarios' one-off alerts stay on the record
    await platform.scenario("pause")
    pause = await platform.wait_for_alert(
        matcher("contract-status", "P0", condition="paused"), within_blocks=1
    )
    await platform.settle()
    new = [a for a in await platform.alerts(status="firing") if a.id not in before]
    assert [a.id for a in new if a.severity in ("P0", "P1")] == [pause.id], [
        (a.monitor, a.summary) for a in new
    ]
    assert pause.evidence["contracts"] == ["FoundationToken", "PaymentToken", "Reserve"]
    assert "FoundationToken, PaymentToken, Reserve" in pause.summary
    await platform.scenario("pause", undo=True)
    await platform.wait_for_alert(lambda a: a.id == pause.id, within_blocks=3, status="resolved")
    await platform.settle()
    left = [
        a for a in await platform.alerts(status="firing") if a.id not in before and a.severity in ("P0", "P1")
    ]
    assert left == [], [(a.monitor, a.summary) for a in left]
    # a second pauseAll is a new firing of the same condition (refired: routed and notified again)
    await platform.scenario("pause")
    again = await platform.wait_for_alert(lambda a: a.id == pause.id, within_blocks=1)
    assert again.fired_at > pause.fired_at
    await platform.scenario("pause", undo=True)
    await platform.wait_for_alert(lambda a: a.id == pause.id, within_blocks=3, status="resolved")


@pytest.mark.parametrize("name", list(CASES))
async def test_scenario_raises_its_alert(platform: Running, name: str) -> None:
    monitor, severity, labels, within, resolves = CASES[name]
    match = matcher(monitor, severity, **labels)
    await platform.settle()
    before = [a for a in await platform.alerts(status="firing") if match(a)]
    assert not before, f"{name}: alert already firing before the scenario: {before}"

    await platform.scenario(name)
    alert = await platform.wait_for_alert(match, within_blocks=within)
    assert alert.summary
    assert alert.block_number is not None or monitor.startswith("rpc")

    if resolves:
        await platform.scenario(name, undo=True)
        await platform.wait_for_alert(lambda a: a.id == alert.id, within_blocks=3, status="resolved")
    else:
        # a one-off event: it stays on the record; the chain is left as the scenario made it
        await platform.settle()


async def test_node_down_raises_all_down_and_recovers(platform: Running) -> None:
    """With the only endpoint frozen the follower cannot move; the polled node monitor still reports."""
    match = matcher("rpc-health", "P0", condition="all_down")
    await platform.settle()
    await platform.scenario("node-down")
    try:
        alert = await platform.poll_for_alert(match, seconds=60)
    finally:
        await platform.scenario("node-down", undo=True)
    await platform.poll_for_alert(lambda a: a.id == alert.id, seconds=60, status="resolved")
    await platform.mine()
    await platform.settle()  # the follower goes on from where it stopped
