"""The review's simulation and the implementation review's verification.

:func:`simulate` runs a proposal's calls on an Anvil fork of the chain at its head, as the Timelock
would (``anvil_impersonateAccount`` + ``anvil_setBalance``, one transaction per call, in order), reads
the probes (:mod:`fictra.proposals.probes`) before and after, and decodes every event the calls emitted.
Nothing is sent to the real chain; the fork is stopped afterwards.

:func:`verify` is the implementation review: after execution on the chain, the probes the simulation
saw change must read the simulated after-values at the execution block, and the executing transaction
must have emitted the same decoded events from the called contracts (the Governor's and the Timelock's
own bookkeeping events left out on both sides).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import cache
from typing import Any

from fictra.chain import artifacts
from fictra.chain.decode import DecodeError, EventDecoder, event_decoders
from fictra.chain.fork import ForkStarter
from fictra.chain.manifest import Manifest
from fictra.chain.types import Log
from fictra.errors import ChainError, UsageError
from fictra.proposals.probes import Rpc, jsonable, probes_for, read_probes

__all__ = ["decode_receipt_logs", "simulate", "verify"]

_GAS = 8_000_000
_BOOKKEEPING = ("Governor", "Timelock")


@cache
def _decoders(artifact: str) -> dict[str, EventDecoder]:
    return {d.topic0: d for d in event_decoders(artifacts.load(artifact).entries("event"))}


def decode_receipt_logs(manifest: Manifest, logs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A receipt's logs as {contract, event, args} (the contract by its manifest name)."""
    by_address = {e.address.lower(): (n, e.artifact) for n, e in manifest.contracts.items()}
    out: list[dict[str, Any]] = []
    for raw in logs:
        address = str(raw["address"]).lower()
        topics = tuple(str(t).lower() for t in raw.get("topics", []))
        name, artifact = by_address.get(address, (None, None))
        item: dict[str, Any] = {"contract": name or address, "event": None, "args": None}
        if artifact is not None and topics and topics[0] in _decoders(artifact):
            decoder = _decoders(artifact)[topics[0]]
            log = Log(address, topics, str(raw.get("data", "0x")), 0, "", 0, 0, "")
            try:
                item["event"], item["args"] = (
                    decoder.name,
                    {k: jsonable(v) for k, v in decoder.decode(log).items()},
                )
            except DecodeError:
                item["event"] = decoder.name
        else:
            item["event"] = topics[0] if topics else "anonymous"
        out.append(item)
    return out


def _effects(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["contract"] not in _BOOKKEEPING]


async def _receipt(rpc: Rpc, tx_hash: str) -> dict[str, Any]:
    """The fork's receipt; Anvil may answer the send before its automine has sealed the block."""
    for _ in range(200):
        receipt = await rpc("eth_getTransactionReceipt", [tx_hash])
        if receipt is not None:
            return dict(receipt)
        await asyncio.sleep(0.02)
    raise ChainError(f"The fork did not mine simulated transaction {tx_hash} within 4 s.")


async def simulate(
    *, manifest: Manifest, calls: Sequence[dict[str, Any]], start_fork: ForkStarter, fork_url: str, block: int
) -> dict[str, Any]:
    """Run ``calls`` as the Timelock on a fork at ``block``; the state changes and the decoded events."""
    if "Timelock" not in manifest.contracts:
        raise UsageError(
            "The manifest has no Timelock: a proposal's calls cannot be simulated as its executor."
        )
    timelock = manifest.contracts["Timelock"].address.lower()
    probes = probes_for(manifest, calls)
    async with start_fork(fork_url, block) as fork:
        rpc: Rpc = fork.call
        before = await read_probes(rpc, probes)
        await rpc("anvil_impersonateAccount", [timelock])
        total = sum(int(c.get("value", 0)) for c in calls)
        await rpc("anvil_setBalance", [timelock, hex(total + 10**20)])
        results, emitted = [], []
        for call in calls:
            tx = {"from": timelock, "to": call["target"], "data": call["calldata"],
                  "value": hex(int(call.get("value", 0))), "gas": hex(_GAS)}  # fmt: skip
            try:
                tx_hash = await rpc("eth_sendTransaction", [tx])
            except ChainError as exc:
                results.append({"index": call["index"], "ok": False, "error": exc.user_message[:300]})
                continue
            receipt = await _receipt(rpc, str(tx_hash))
            ok = int(receipt["status"], 16) == 1
            events = decode_receipt_logs(manifest, receipt.get("logs", []))
            emitted.extend(events)
            results.append({"index": call["index"], "ok": ok, "gas_used": int(receipt["gasUsed"], 16),
                            "events": events, "error": None if ok else "reverted"})  # fmt: skip
        after = await read_probes(rpc, probes)
    state = [
        {"probe": p.label, "before": before[p.label], "after": after[p.label],
         "changed": before[p.label] != after[p.label]}
        for p in probes
    ]  # fmt: skip
    return {
        "block": block,
        "executor": timelock,
        "ok": all(r["ok"] for r in results) and len(results) == len(calls),
        "calls": results,
        "state": state,
        "changes": [s for s in state if s["changed"]],
        "events": _effects(emitted),
    }


async def verify(
    *, manifest: Manifest, simulation: dict[str, Any], calls: Sequence[dict[str, Any]], rpc: Rpc,
    executed_block: int, executed_tx: str | None,
) -> dict[str, Any]:  # fmt: skip
    """Compare the chain after execution with the simulation (see the module docstring)."""
    probes = [
        p for p in probes_for(manifest, calls) if p.label in {c["probe"] for c in simulation["changes"]}
    ]
    now = await read_probes(rpc, probes, block=executed_block)
    checks = []
    for change in simulation["changes"]:
        actual = now.get(change["probe"])
        checks.append({"probe": change["probe"], "expected": change["after"], "actual": actual,
                       "ok": actual == change["after"]})  # fmt: skip
    events_ok, actual_events = True, []
    if executed_tx is not None:
        receipt = await rpc("eth_getTransactionReceipt", [executed_tx])
        actual_events = _effects(decode_receipt_logs(manifest, (receipt or {}).get("logs", [])))
        events_ok = actual_events == simulation["events"]
    ok = all(c["ok"] for c in checks) and events_ok
    return {
        "ok": ok,
        "block": executed_block,
        "tx": executed_tx,
        "checks": checks,
        "events_ok": events_ok,
        "expected_events": simulation["events"],
        "actual_events": actual_events,
    }
