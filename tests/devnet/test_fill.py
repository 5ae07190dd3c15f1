"""`devnet fill`: N pre-signed transactions land, many per block, and the mining mode is restored."""

from __future__ import annotations

import pytest

from fictra.devnet.chainutil import DevChain, MiningMode
from fictra.devnet.fill import fill
from fictra.errors import DevnetError


async def _count_txs(chain: DevChain, first: int, last: int) -> int:
    counts = await chain.rpc.batch(
        [("eth_getBlockTransactionCountByNumber", [hex(n)]) for n in range(first, last + 1)]
    )
    return sum(int(c, 16) for c in counts)


async def test_fill_lands_every_transaction_with_pt_logs(chain: DevChain) -> None:
    await MiningMode(automine=False, interval=3).apply(chain.rpc)
    try:
        result = await fill(
            rpc_url=chain.rpc_url, transactions=1_200, manifest=chain.manifest, batch_size=500, pt_share=0.5
        )
        assert await MiningMode.read(chain.rpc) == MiningMode(automine=False, interval=3)
    finally:
        await MiningMode(automine=True, interval=None).apply(chain.rpc)
    assert result.transactions == 1_200
    assert await _count_txs(chain, result.first_block, result.last_block) == 1_200
    assert result.last_block - result.first_block + 1 == 3  # 500 + 500 + 200
    fillers = set(chain.role("filler"))
    logs = await chain.contract("PaymentToken").events.Transfer.get_logs(
        from_block=result.first_block, to_block=result.last_block
    )
    pt_between_fillers = [
        log for log in logs if log["args"]["from"] in fillers and log["args"]["to"] in fillers
    ]
    assert len(pt_between_fillers) == result.pt_transfers > 400


async def test_fill_without_a_deployment_sends_eth_transfers(chain: DevChain) -> None:
    result = await fill(rpc_url=chain.rpc_url, transactions=50, manifest=None, batch_size=20)
    assert result.pt_transfers == 0
    assert await _count_txs(chain, result.first_block, result.last_block) == 50
    assert (await MiningMode.read(chain.rpc)).automine


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"transactions": 0}, "--transactions is 0"), ({"transactions": 5, "batch_size": 5000}, "--batch-size")],
)
async def test_bad_fill_arguments(chain: DevChain, kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(DevnetError, match=message):
        await fill(rpc_url=chain.rpc_url, **kwargs)
