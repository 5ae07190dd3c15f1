"""The shared transaction sender on a real Anvil: nonces of one key under concurrency, the one fee
formula (EIP-1559 and legacy) as it lands on chain, recording before broadcast, confirmation tracking
by the chain head, and a reverting call that sends nothing."""

from __future__ import annotations

import asyncio

import pytest
from chainkit import Chain

from fictra.chain.keystore import Signer
from fictra.chain.pool import RpcPool
from fictra.chain.sender import Receipt, SignedTx, TxSender
from fictra.chain.sender_fees import GWEI, FeePolicy
from fictra.clock import SystemClock
from fictra.devnet.accounts import one
from fictra.errors import ConflictError


def key(name: str) -> Signer:
    return Signer(role=name, key=bytes.fromhex(one(name).private_key.removeprefix("0x")), source="devnet")


class ListStore:
    """Records what the sender hands over and checks the node does not know it yet."""

    def __init__(self, pool: RpcPool) -> None:
        self.pool = pool
        self.recorded: list[SignedTx] = []
        self.known_at_record: list[object] = []

    async def record(self, tx: SignedTx) -> None:
        self.known_at_record.append(await self.pool.call("eth_getTransactionByHash", [tx.tx_hash]))
        self.recorded.append(tx)


def test_the_fee_formula_and_its_defaults() -> None:
    policy = FeePolicy()  # what the emergency runner has always done
    fees = policy.fees(base_fee=10 * GWEI, node_tip=None)
    assert (fees.max_fee, fees.priority_fee) == (21 * GWEI, GWEI)
    assert fees.fields() == {"maxFeePerGas": 21 * GWEI, "maxPriorityFeePerGas": GWEI, "type": 2}
    assert policy.fees(base_fee=10 * GWEI, node_tip=3 * GWEI).max_fee == 23 * GWEI
    assert policy.fees(base_fee=0, node_tip=0).priority_fee == 1  # never a zero tip
    assert policy.gas_limit(100_000) == 175_000
    fixed = FeePolicy(max_fee_multiplier=3, priority_fee_gwei=2, gas_limit_multiplier=1.2, gas_limit_extra=0)
    assert fixed.fees(base_fee=GWEI, node_tip=5 * GWEI).max_fee == 5 * GWEI  # the fixed tip wins
    assert fixed.gas_limit(100_000) == 120_000
    legacy = FeePolicy(legacy=True).fees(base_fee=GWEI, node_tip=None)
    assert legacy.fields() == {"gasPrice": 3 * GWEI}
    with pytest.raises(ValueError, match="max_fee_multiplier"):
        FeePolicy(max_fee_multiplier=0.5)
    with pytest.raises(ValueError, match="extra"):
        FeePolicy.model_validate({"gas_multiplier": 2})


async def test_concurrent_sends_of_one_key_get_consecutive_nonces(pool: RpcPool) -> None:
    sender = TxSender(pool=pool, clock=SystemClock(), poll_interval=0.01)
    store = ListStore(pool)
    signer, to = key("filler"), one("attacker").address
    first = int(await pool.call("eth_getTransactionCount", [signer.address, "pending"]), 16)
    sent = await asyncio.gather(
        *(sender.send(signer=signer, to=to, data="0x", value=i + 1, store=store) for i in range(8))
    )
    assert sorted(s.nonce for s in sent) == list(range(first, first + 8))
    assert [s.tx_hash for s in store.recorded] == [s.tx_hash for s in sorted(sent, key=lambda s: s.nonce)]
    assert store.known_at_record == [None] * 8, "recorded before the node saw it"
    for s in sent:
        tracked = await sender.track(tx_hash=s.tx_hash, confirmations=0, timeout_blocks=5)
        assert tracked.status == "confirmed" and tracked.receipt is not None and tracked.receipt.ok
    assert int(await pool.call("eth_getTransactionCount", [signer.address, "latest"]), 16) == first + 8


@pytest.mark.parametrize("legacy", [False, True])
async def test_the_policy_is_what_lands_on_chain(pool: RpcPool, legacy: bool) -> None:
    policy = FeePolicy(max_fee_multiplier=3, priority_fee_gwei=2, gas_limit_multiplier=1.25, legacy=legacy)
    sender = TxSender(pool=pool, clock=SystemClock(), policy=policy, poll_interval=0.01)
    signer, to = key("operator"), one("attacker").address
    block = await pool.call("eth_getBlockByNumber", ["latest", False])
    base = int(block["baseFeePerGas"], 16)
    estimate = await sender.estimate_gas(sender=signer.address, to=to, data="0x", value=1)
    signed = await sender.send(signer=signer, to=to, data="0x", value=1, store=ListStore(pool))
    tx = await pool.call("eth_getTransactionByHash", [signed.tx_hash])
    assert int(tx["gas"], 16) == signed.gas_limit == int(estimate * 1.25) + 25_000
    assert int(tx["nonce"], 16) == signed.nonce
    if legacy:
        assert int(tx["type"], 16) == 0 and int(tx["gasPrice"], 16) == base * 3 + 2 * GWEI
    else:
        assert int(tx["type"], 16) == 2
        assert int(tx["maxPriorityFeePerGas"], 16) == 2 * GWEI
        assert int(tx["maxFeePerGas"], 16) == base * 3 + 2 * GWEI


async def test_tracking_waits_for_the_confirmations_by_the_chain_head(pool: RpcPool, chain: Chain) -> None:
    sender = TxSender(pool=pool, clock=SystemClock(), poll_interval=0.01)
    signed = await sender.send(
        signer=key("operator"), to=one("attacker").address, data="0x", value=7, store=ListStore(pool)
    )
    seen: list[Receipt] = []

    async def on_receipt(receipt: Receipt) -> bool:
        seen.append(receipt)
        return True

    task = asyncio.ensure_future(
        sender.track(tx_hash=signed.tx_hash, confirmations=3, timeout_blocks=10, on_receipt=on_receipt)
    )
    await asyncio.sleep(0.2)
    chain.mine_empty(2)
    await asyncio.sleep(0.2)
    assert not task.done(), "two blocks on top are not three confirmations"
    chain.mine_empty(1)
    tracked = await asyncio.wait_for(task, 10)
    assert tracked.status == "confirmed" and tracked.confirmations == 3
    assert [r.tx_hash for r in seen] == [signed.tx_hash], "one inclusion, one callback"
    assert tracked.receipt is not None and tracked.receipt.block_number == seen[0].block_number


async def test_a_transaction_never_included_times_out_by_blocks(pool: RpcPool, chain: Chain) -> None:
    sender = TxSender(pool=pool, clock=SystemClock(), poll_interval=0.01)
    unknown = "0x" + "ab" * 32
    task = asyncio.ensure_future(sender.track(tx_hash=unknown, confirmations=1, timeout_blocks=2))
    for _ in range(4):
        await asyncio.sleep(0.1)
        chain.mine_empty(1)
    tracked = await asyncio.wait_for(task, 10)
    assert tracked.status == "timeout" and tracked.reason == "not included within 2 blocks"


async def test_a_call_that_would_revert_is_neither_recorded_nor_sent(pool: RpcPool, chain: Chain) -> None:
    sender = TxSender(pool=pool, clock=SystemClock())
    store = ListStore(pool)
    signer = key("operator")
    nonce = int(await pool.call("eth_getTransactionCount", [signer.address, "pending"]), 16)
    # a contract whose every call reverts: runtime code PUSH1 0 PUSH1 0 REVERT
    init = "0x6005600c60003960056000f360006000fd"
    created = await sender.send(signer=key("filler"), to=None, data=init, store=store)
    tracked = await sender.track(tx_hash=created.tx_hash, confirmations=0, timeout_blocks=5)
    assert tracked.receipt is not None and tracked.receipt.contract_address is not None
    with pytest.raises(ConflictError, match=r"probe reverted: .*\(nothing sent\)"):
        await sender.send(
            signer=signer, to=tracked.receipt.contract_address, data="0x01", store=store, label="probe"
        )
    assert len(store.recorded) == 1
    assert int(await pool.call("eth_getTransactionCount", [signer.address, "pending"]), 16) == nonce
