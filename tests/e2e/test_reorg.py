"""Reorgs at depths 1 to 5.

An alert raised in a block that a reorg removes is retracted (kept, never deleted). When the new
branch carries the same transaction again (the usual case: ``fictra devnet scenario reorg`` re-includes
the replaced blocks' transactions), the follower processes the new branch and the alert follows it,
anchored on the new block; when the new branch drops the transaction, the alert stays retracted.
"""

from __future__ import annotations

import pytest

from e2e.harness import Running
from fictra.alerting.queries import get_alert
from fictra.alerting.schemas import AlertView
from fictra.devnet.scenarios import ScenarioOptions

pytestmark = [pytest.mark.e2e]

E18 = 10**18


async def _large_transfer(platform: Running, sender_index: int) -> tuple[int, str]:
    """A PT transfer above the large-pt-transfer threshold from a trader used by no other test."""
    traders = platform.chain.role("traders")
    sender, receiver = traders[sender_index], traders[-1]
    receipt = await platform.chain.send(sender, "PaymentToken", "transfer", receiver, 60_000 * E18)
    return int(receipt["blockNumber"]), receipt["transactionHash"].to_0x_hex()


async def _alert_for(platform: Running, sender: str) -> AlertView:
    [alert] = [
        a
        for a in await platform.alerts()
        if a.monitor == "large-pt-transfer" and a.labels.get("from") == sender.lower()
    ]
    return alert


async def _assert_on_new_branch(platform: Running) -> None:
    status = platform.platform.follower.status()
    head = await platform.chain.rpc.call("eth_getBlockByNumber", ["latest", False])
    assert status.last_block == int(head["number"], 16)
    assert status.last_hash == head["hash"]


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
async def test_dropped_transaction_retracts_its_alert(platform: Running, depth: int) -> None:
    sender = platform.chain.role("traders")[depth]
    await platform.settle()
    block, tx_hash = await _large_transfer(platform, depth)
    await platform.mine(depth - 1)  # the transfer block is the oldest block the reorg replaces
    await platform.settle()
    alert = await _alert_for(platform, sender)
    assert (alert.status, alert.block_number) == ("firing", block)
    # confirmations count the block itself: depth d gives d confirmations; the rule wants 2
    assert alert.confirmation == ("confirmed" if depth >= 2 else "provisional")
    reorgs_before = platform.platform.follower.status().counters["reorgs"]

    # the new branch spends the transfer's nonce on a 0-value self-transfer: the transfer can never come
    # back (Anvil returns dropped transactions to its mempool, and the next block would re-include them)
    nonce = (await platform.chain.rpc.call("eth_getTransactionByHash", [tx_hash]))["nonce"]
    conflict = {"from": sender, "to": sender, "value": "0x0", "nonce": nonce, "gas": hex(21_000)}
    await platform.chain.rpc.call("anvil_reorg", [depth, [[conflict, 0]]])
    await platform.mine()
    await platform.settle()

    assert await platform.chain.rpc.call("eth_getTransactionReceipt", [tx_hash]) is None  # gone for good
    alert = await _alert_for(platform, sender)
    assert alert.confirmation == "retracted"
    assert alert.retraction_reason
    await _assert_on_new_branch(platform)
    assert platform.platform.follower.status().counters["reorgs"] == reorgs_before + 1


@pytest.mark.parametrize("depth", [1, 3, 5])
async def test_reincluded_transaction_moves_its_alert_to_the_new_branch(
    platform: Running, depth: int
) -> None:
    index = 5 + depth  # traders 6, 8, 10: not used by the test above
    sender = platform.chain.role("traders")[index]
    await platform.settle()
    old_block, _ = await _large_transfer(platform, index)
    await platform.mine(depth - 1)
    await platform.settle()
    old = await _alert_for(platform, sender)
    assert old.block_number == old_block

    platform.scenarios.options = ScenarioOptions(depth=depth)
    await platform.scenario("reorg")  # replaces the blocks, re-including their transactions
    await platform.mine(2)
    await platform.settle()

    alert = await _alert_for(platform, sender)
    assert alert.id == old.id  # one condition, one alert
    assert alert.status == "firing" and alert.confirmation != "retracted"
    assert alert.block_hash != old.block_hash
    new_block = await platform.chain.rpc.call("eth_getBlockByNumber", [hex(alert.block_number), False])
    assert new_block["hash"] == alert.block_hash  # anchored on the canonical (new) block
    async with platform.platform.sessions() as session:
        detail = await get_alert(session, str(alert.id))
    kinds = [e.kind for e in detail.events]
    assert "retracted" in kinds and kinds.index("retracted") < len(kinds) - 1, kinds
    await _assert_on_new_branch(platform)
