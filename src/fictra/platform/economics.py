"""The economics domain's glue: the PT market monitor for ``fictra up`` and the fee impact assessment over
the PT transfers of the last blocks (read with eth_getLogs) for the API and the CLI."""

from __future__ import annotations

from typing import Any

from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import Clock
from fictra.economics.config import EconomicsConfig
from fictra.economics.fees import FeeImpact, Transfer, fee_impact
from fictra.economics.monitor import MarketMonitor
from fictra.economics.supply import analyse_supply, balances_after
from fictra.errors import UsageError
from fictra.monitors.common import decode_word, selector, topic

__all__ = ["assess_fee", "market_monitor", "pt_transfers", "supply_report"]

TRANSFER = topic("Transfer(address,address,uint256)")
FEE_BPS, FEE_COLLECTOR = selector("feeBps()"), selector("feeCollector()")
CHUNK = 2_000


def market_monitor(
    config: EconomicsConfig, *, manifest: Manifest, pool: RpcPool, network: str, clock: Clock
) -> MarketMonitor | None:
    c = config.pool
    if not c.enabled or c.pool not in manifest.contracts or c.token not in manifest.contracts:
        return None
    return MarketMonitor(config=c, manifest=manifest, pool=pool, network=network, clock=clock)


async def pt_transfers(pool: RpcPool, *, token: str, from_block: int, to_block: int) -> list[Transfer]:
    """The PaymentToken's Transfer events in [from_block, to_block] (in chunks of 2,000 blocks)."""
    out: list[Transfer] = []
    start = from_block
    while start <= to_block:
        end = min(to_block, start + CHUNK - 1)
        logs: list[dict[str, Any]] = await pool.call(
            "eth_getLogs",
            [{"address": token, "topics": [TRANSFER], "fromBlock": hex(start), "toBlock": hex(end)}],
        )
        for log in logs:
            topics = log["topics"]
            out.append(
                Transfer(
                    "0x" + topics[1][-40:],
                    "0x" + topics[2][-40:],
                    int(log["data"], 16),
                    log["transactionHash"],
                )
            )
        start = end + 1
    return out


async def assess_fee(
    pool: RpcPool, *, manifest: Manifest, token: str, fee_bps: int, blocks: int
) -> tuple[FeeImpact, dict[str, Any]]:
    """Replay the PT transfers of the last ``blocks`` blocks under ``fee_bps`` against the current fee."""
    if not 0 <= fee_bps <= 100:
        raise UsageError(f"fee_bps has value {fee_bps}; PaymentToken allows 0..100 (MAX_FEE_BPS).")
    address = manifest.address(token)
    head = int(await pool.call("eth_blockNumber"), 16)
    first = max(0, head - blocks + 1)
    now_raw = await pool.call("eth_call", [{"to": address, "data": FEE_BPS}, hex(head)])
    collector_raw = await pool.call("eth_call", [{"to": address, "data": FEE_COLLECTOR}, hex(head)])
    fee_now = int(decode_word(now_raw, "uint16", what="feeBps"))
    collector = str(decode_word(collector_raw, "address", what="feeCollector"))
    transfers = await pt_transfers(pool, token=address, from_block=first, to_block=head)
    # a transfer with a fee emits two Transfer events (value − fee to the recipient, fee to the collector);
    # the settlement is their sum, keyed by the sender's send to a non-collector recipient
    settlements = _settlements(transfers, collector)
    impact = fee_impact(settlements, fee_bps_now=fee_now, fee_bps_new=fee_bps, collector=collector)
    return impact, {"from_block": first, "to_block": head, "collector": collector}


def _settlements(transfers: list[Transfer], collector: str) -> list[Transfer]:
    out: list[Transfer] = []
    c = collector.lower()
    i = 0
    while i < len(transfers):
        t = transfers[i]
        nxt = transfers[i + 1] if i + 1 < len(transfers) else None
        if (
            t.recipient.lower() == c
            and nxt is not None
            and nxt.tx == t.tx
            and nxt.sender.lower() == t.sender.lower()
        ):
            out.append(Transfer(t.sender, nxt.recipient, t.value + nxt.value, t.tx))  # fee, then value − fee
            i += 2
            continue
        out.append(t)
        i += 1
    return out


async def supply_report(pool: RpcPool, *, manifest: Manifest, token: str, blocks: int) -> dict[str, Any]:
    """The supply analysis of the last ``blocks`` blocks, opening balances replayed from the deployment."""
    address = manifest.address(token)
    head = int(await pool.call("eth_blockNumber"), 16)
    start = max(manifest.contracts[token].deployed_block, head - blocks + 1)
    before = await pt_transfers(pool, token=address, from_block=manifest.contracts[token].deployed_block,
                                to_block=start - 1)  # fmt: skip
    window = await pt_transfers(pool, token=address, from_block=start, to_block=head)
    analysis = analyse_supply(balances_after(before), window)
    return {**analysis.as_dict(), "from_block": start, "to_block": head}
