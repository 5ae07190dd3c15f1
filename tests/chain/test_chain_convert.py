"""JSON -> frozen values: contract creation, reverted txs, logs; small helpers of the follower."""

from __future__ import annotations

import pytest
from chainkit import Chain
from eth_account import Account
from eth_utils import to_checksum_address

from fictra.chain.convert import convert_block
from fictra.chain.fetch import fetch_blocks
from fictra.chain.heads import ws_url_for
from fictra.chain.pool import RpcPool
from fictra.chain.reorg import find_reorg
from fictra.devnet.accounts import account
from fictra.errors import RpcError


async def test_creation_reverted_and_logging_txs_convert_like_the_node_says(
    chain: Chain, pool: RpcPool
) -> None:
    emitter = chain.deploy_emitter()
    sender = account(32)
    chain.call("evm_setAutomine", False)
    ok = chain.call("eth_sendRawTransaction", chain.signed(sender, to=emitter, data="0x01"))
    chain.call("evm_mine")
    chain.call("evm_setAutomine", True)
    head = chain.head()
    blocks = await fetch_blocks(pool, first=1, last=head)
    creation = blocks[0].txs[0]
    assert creation.to is None and creation.contract_address == emitter.lower() and creation.status == 1
    assert creation.selector is not None
    call = next(t for t in blocks[-1].txs if t.hash == ok)
    assert call.to == emitter.lower() and call.selector is None and call.input == "0x01"
    assert call.max_fee_per_gas == 10**10 and call.max_priority_fee_per_gas == 10**9
    assert call.effective_gas_price > 0 and call.gas_used > 21_000
    (log,) = call.logs
    assert log.address == emitter.lower() and log.topics == ("0x" + "0" * 24 + sender.address.lower()[2:],)
    assert (log.tx_hash, log.block_number, log.block_hash) == (ok, blocks[-1].number, blocks[-1].hash)
    assert blocks[-1].logs == tuple(lg for t in blocks[-1].txs for lg in t.logs)


async def test_a_reverted_tx_has_status_0_and_no_logs(chain: Chain, pool: RpcPool) -> None:
    emitter = chain.deploy_emitter()
    sender = account(33)
    tx = {
        "chainId": 31337,
        "nonce": int(chain.call("eth_getTransactionCount", sender.address, "pending"), 16),
        "gas": 21_300,  # intrinsic 21,016 + a little: LOG1 runs out of gas
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
        "to": to_checksum_address(emitter),
        "data": "0x01",
        "value": 0,
    }
    raw = "0x" + Account.sign_transaction(tx, sender.private_key).raw_transaction.hex()
    tx_hash = chain.call("eth_sendRawTransaction", raw)
    number = int(chain.call("eth_getTransactionReceipt", tx_hash)["blockNumber"], 16)
    (block,) = await fetch_blocks(pool, first=number, last=number)
    (failed,) = block.txs
    assert failed.hash == tx_hash and failed.status == 0 and failed.logs == () and failed.gas_used == 21_300


def test_receipts_of_another_block_are_refused() -> None:
    raw = {
        "hash": "0xAA",
        "number": "0x1",
        "parentHash": "0x00",
        "timestamp": "0x1",
        "gasUsed": "0x0",
        "gasLimit": "0x1",
        "transactions": [{"hash": "0x01"}],
    }
    with pytest.raises(RpcError, match="Receipt of tx 0x01 does not belong to block 0xaa"):
        convert_block(raw, [{"transactionHash": "0x01", "blockHash": "0xBB"}])
    with pytest.raises(RpcError, match="has 1 transactions but 0 receipts"):
        convert_block(raw, [])


def test_ws_url_for() -> None:
    assert ws_url_for("http://127.0.0.1:8545") == "ws://127.0.0.1:8545"
    assert ws_url_for("https://u:p@node.example/v3/key") == "wss://u:p@node.example/v3/key"
    assert ws_url_for("ws://x") == "ws://x"


async def test_find_reorg_is_none_when_the_tip_is_still_canonical(chain: Chain, pool: RpcPool) -> None:
    chain.mine_empty(5)
    hashes = {
        n: h["hash"]
        for n, h in zip(
            range(1, 6),
            chain.batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(1, 6)]),
            strict=True,
        )
    }
    assert await find_reorg(pool, network="devnet", hashes=hashes, tip=5, detected_at=6) is None
    hashes[5] = "0x" + "ab" * 32
    hashes[4] = "0x" + "cd" * 32
    reorg = await find_reorg(pool, network="devnet", hashes=hashes, tip=5, detected_at=6)
    assert reorg is not None and (reorg.common_ancestor, reorg.depth) == (3, 2)
    assert reorg.old_hashes == ("0x" + "cd" * 32, "0x" + "ab" * 32)
