"""A reverted eth_call is an answer about the contract, never a fault of the endpoint."""

from __future__ import annotations

import pytest

from fictra.chain.pool import RpcPool
from fictra.chain.rpc import CallReverted
from fictra.clock import FakeClock
from fictra.devnet.anvil import AnvilNode

# Init code that always reverts with a 4-byte custom error 0xdeadbeef: PUSH4 deadbeef PUSH1 e0 SHL
# PUSH1 0 MSTORE PUSH1 4 PUSH1 0 REVERT
REVERTING_INIT = "0x63deadbeef60e01b60005260046000fd"


async def test_revert_passes_through_and_leaves_the_endpoint_healthy(anvil: AnvilNode) -> None:
    pool = RpcPool(network="t", urls=[anvil.rpc_url], clock=FakeClock(), chain_id=31337)
    await pool.start()
    try:
        with pytest.raises(CallReverted) as info:
            await pool.call("eth_call", [{"data": REVERTING_INIT}, "latest"])
        assert info.value.data is not None and info.value.data.startswith("0xdeadbeef")
        health = pool.health()[0]
        assert str(health.state) == "healthy"
        assert health.consecutive_errors == 0
        # in a batch: the reverted item becomes a value, the others are answered
        head, reverted = await pool.batch(
            [("eth_blockNumber", []), ("eth_call", [{"data": REVERTING_INIT}, "latest"])],
            reverts_as_values=True,
        )
        assert int(head, 16) >= 0
        assert isinstance(reverted, CallReverted)
        # without the flag the whole batch raises, still without blaming the endpoint
        with pytest.raises(CallReverted):
            await pool.batch([("eth_blockNumber", []), ("eth_call", [{"data": REVERTING_INIT}, "latest"])])
        assert str(pool.health()[0].state) == "healthy"
    finally:
        await pool.aclose()
