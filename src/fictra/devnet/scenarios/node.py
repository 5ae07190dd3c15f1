"""Infrastructure faults: the RPC node stops answering, a gas spike, failed transactions, a reorg."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from eth_account import Account

from fictra.devnet.scenarios.base import Scenario, ScenarioContext
from fictra.errors import ScenarioError

SPIKE_BASE_FEE = 500 * 10**9  # 500 gwei
NORMAL_BASE_FEE = 10**9


class NodeDown(Scenario):
    """The RPC endpoint stops answering: the Anvil process is frozen (SIGSTOP); undo resumes it (SIGCONT).

    Connections are accepted by the kernel but never answered — the way a hung node looks to
    clients (timeouts, not refusals). Chain state is kept.
    """

    name = "node-down"

    def _pid(self, ctx: ScenarioContext) -> int:
        if ctx.anvil_pid is None:
            raise ScenarioError(
                "node-down needs the Anvil pid from the devnet state; run `fictra devnet up`."
            )
        return ctx.anvil_pid

    async def apply(self, ctx: ScenarioContext) -> str:
        pid = self._pid(ctx)
        os.kill(pid, signal.SIGSTOP)
        ctx.store.put(self.name, {"pid": pid})
        return f"Anvil (pid {pid}) is frozen; {ctx.chain.rpc_url} no longer answers."

    async def undo(self, ctx: ScenarioContext) -> str:
        pid = self._pid(ctx)
        os.kill(pid, signal.SIGCONT)
        ctx.store.remove(self.name)
        return f"Anvil (pid {pid}) resumed; {ctx.chain.rpc_url} answers again."


class GasSpike(Scenario):
    """The base fee jumps to 500 gwei (anvil_setNextBlockBaseFeePerGas); undo sets the previous fee back.

    Without undo the fee decays by itself by up to 12.5% per block, as on a real chain.
    """

    name = "gas-spike"

    async def apply(self, ctx: ScenarioContext) -> str:
        rpc = ctx.chain.rpc
        block = await rpc.call("eth_getBlockByNumber", ["latest", False])
        before = int(block.get("baseFeePerGas", "0x0"), 16)
        recorded = ctx.store.get(self.name)
        await rpc.call("anvil_setNextBlockBaseFeePerGas", [hex(SPIKE_BASE_FEE)])
        await ctx.chain.mine()
        ctx.store.put(self.name, {"before": recorded["before"] if recorded else before})
        return f"Base fee spiked from {before / 1e9:.2f} to {SPIKE_BASE_FEE / 1e9:.0f} gwei."

    async def undo(self, ctx: ScenarioContext) -> str:
        recorded = ctx.store.get(self.name) or {}
        fee = max(int(recorded.get("before", NORMAL_BASE_FEE)), 1)
        await ctx.chain.rpc.call("anvil_setNextBlockBaseFeePerGas", [hex(fee)])
        await ctx.chain.mine()
        ctx.store.remove(self.name)
        return f"Base fee back at {fee / 1e9:.2f} gwei."


class FailedTxBurst(Scenario):
    """The attacker sends --count transactions that revert (unauthorized PaymentToken.setFee calls)."""

    name = "failed-tx-burst"
    reversible = False

    async def apply(self, ctx: ScenarioContext) -> str:
        if ctx.options.count < 1:
            raise ScenarioError(f"--count is {ctx.options.count}; use 1 or more.")
        attacker = ctx.one("attacker")
        hashes = [
            await ctx.chain.send(attacker, "PaymentToken", "setFee", 1, gas=100_000, wait=False)
            for _ in range(ctx.options.count)
        ]
        receipts = await asyncio.gather(*(ctx.chain.receipt(str(h)) for h in hashes))
        failed = sum(1 for r in receipts if r["status"] == 0)
        return f"{failed} of {len(receipts)} transactions from {attacker} reverted."


async def _replayable(ctx: ScenarioContext, tx: dict[str, Any], impersonated: set[str]) -> object:
    """The transaction as anvil_reorg takes it: its raw bytes when its signature is real, else (sent by an
    impersonated account) a request re-sent under impersonation, same nonce and fields."""
    raw = await ctx.chain.rpc.call("eth_getRawTransactionByHash", [tx["hash"]])
    try:
        signer = Account.recover_transaction(raw)
    except Exception:  # a fake (impersonation) signature may not even recover
        signer = ""
    if signer.lower() == str(tx["from"]).lower():
        return raw
    impersonated.add(str(tx["from"]))
    request = {k: tx[k] for k in ("from", "to", "value", "gas", "nonce", "input") if tx.get(k) is not None}
    if tx.get("maxFeePerGas") is not None:
        request |= {"maxFeePerGas": tx["maxFeePerGas"], "maxPriorityFeePerGas": tx["maxPriorityFeePerGas"]}
    elif tx.get("gasPrice") is not None:
        request["gasPrice"] = tx["gasPrice"]
    return request


class Reorg(Scenario):
    """The last --depth blocks are replaced by a different branch of the same height (anvil_reorg).

    As in a real reorg, the transactions of the replaced blocks are not lost: they are re-included in
    the new branch, in their order, shifted one block later where possible (so they change block
    number and hash). The first new block also carries a marker transaction (the attacker sends itself
    1 wei), so every replaced block differs from the old one, even an empty one.
    """

    name = "reorg"
    reversible = False

    async def apply(self, ctx: ScenarioContext) -> str:
        depth = ctx.options.depth
        rpc = ctx.chain.rpc
        head = await ctx.chain.head()
        if not 1 <= depth <= head:
            raise ScenarioError(f"--depth is {depth}; the chain has {head} blocks (use 1..{head}).")
        attacker = ctx.one("attacker")
        marker = {"from": attacker, "to": attacker, "value": "0x1", "gas": hex(21_000)}
        pairs: list[list[object]] = [[marker, 0]]
        impersonated: set[str] = set()
        for offset, number in enumerate(range(head - depth + 1, head + 1)):
            block = await rpc.call("eth_getBlockByNumber", [hex(number), True])
            for tx in block["transactions"]:
                pairs.append([await _replayable(ctx, tx, impersonated), min(offset + 1, depth - 1)])
        for sender in impersonated:
            await rpc.call("anvil_impersonateAccount", [sender])
        try:
            await rpc.call("anvil_reorg", [depth, pairs])
        finally:
            for sender in impersonated:
                await rpc.call("anvil_stopImpersonatingAccount", [sender])
        moved = len(pairs) - 1
        return (
            f"Reorganised the last {depth} blocks (heights {head - depth + 1}..{head}); "
            f"{moved} transaction(s) moved to the new branch."
        )
