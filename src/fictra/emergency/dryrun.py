"""Simulate an action's transactions against current state before anything is sent.

For each transaction, pinned to one block: ``eth_call`` from the signer's address (a revert decoded to
its custom error), ``eth_estimateGas``, and — when the node offers ``debug_traceCall`` with the
``callTracer`` (``withLog``) — every event it would emit, decoded with the shipped ABIs
(``AllPaused(by, count=4)``, ``Paused(account)`` on each token...). Nodes without it get call + gas
only, and the result says so. The current value of what verification will check is shown alongside
("0 of 4 targets paused now"). Nothing is signed or sent.
"""

from __future__ import annotations

from typing import Any

from fictra.chain.revert import decode_revert
from fictra.chain.rpc import CallReverted, RpcMethodMissing
from fictra.emergency.abi import decode_log
from fictra.emergency.kinds.base import DryRunResult, Observation, PlannedCall
from fictra.emergency.reader import ChainReader
from fictra.errors import RpcError

__all__ = ["DryRunResult", "simulate"]

TRACER = {"tracer": "callTracer", "tracerConfig": {"withLog": True}}


def _logs(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """Logs of a callTracer frame and its sub-calls, in emission order (reverted frames emit none)."""
    if frame.get("error"):
        return []
    out = [dict(log) for log in frame.get("logs", []) or []]
    for sub in frame.get("calls", []) or []:
        out.extend(_logs(sub))
    return out


def _events(reader: ChainReader, frame: dict[str, Any]) -> list[dict[str, Any]]:
    events = []
    for log in _logs(frame):
        address = str(log.get("address", ""))
        decoded = decode_log([str(t) for t in log.get("topics", [])], str(log.get("data", "0x")))
        name, args = decoded if decoded is not None else ("(unknown event)", {"topics": log.get("topics")})
        contract = reader.name_of(address) or address
        events.append({"contract": contract, "address": address, "event": name, "args": args})
    return events


def _event_text(events: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for e in events:
        counts[e["event"]] = counts.get(e["event"], 0) + 1
    return ", ".join(f"{name}×{n}" if n > 1 else name for name, n in counts.items()) or "no events"


async def _simulate_one(
    reader: ChainReader, *, sender: str, to: str, data: str, block: str
) -> dict[str, Any]:
    tx = {"from": sender, "to": to, "data": data}
    out: dict[str, Any] = {"from": sender, "to": to, "contract": reader.name_of(to) or to}
    try:
        await reader.pool.call("eth_call", [tx, block])
    except CallReverted as exc:
        out.update(ok=False, revert=decode_revert(exc.data, context=out["contract"]).user_message)
        return out
    out["ok"] = True
    try:
        out["gas"] = int(await reader.pool.call("eth_estimateGas", [tx, block]), 16)
    except CallReverted as exc:
        out.update(ok=False, revert=decode_revert(exc.data, context=out["contract"]).user_message)
        return out
    try:
        frame = await reader.pool.call("debug_traceCall", [tx, block, TRACER])
    except (RpcMethodMissing, RpcError) as exc:
        if not isinstance(exc, RpcMethodMissing) and "debug_traceCall" not in exc.user_message:
            raise
        out["traced"] = False
        return out
    out["traced"] = True
    out["events"] = _events(reader, frame if isinstance(frame, dict) else {})
    return out


async def simulate(
    reader: ChainReader,
    calls: list[PlannedCall],
    *,
    signers: dict[str, str],
    now: Observation,
    head: int,
) -> DryRunResult:
    """Simulate ``calls`` (``signers``: role -> address) at block ``head``; ``now`` is the observed
    state shown alongside."""
    block = hex(head)
    steps: list[dict[str, Any]] = []
    traced = True
    for call in calls:
        step: dict[str, Any] = {"step": call.step, "label": call.label, "signer": call.signer}
        if call.wait_ready is not None or call.wait_proposal is not None:
            step.update(
                ok=True,
                deferred=True,
                note="sent once the Timelock operation is ready (after the minimum delay); its effect is "
                "simulated with the first step"
                if call.wait_ready is not None
                else f"sent once the governance proposal is {(call.wait_proposal or (0, ''))[1]}",
            )
            steps.append(step)
            continue
        sender = signers.get(call.signer)
        if sender is None:
            step.update(ok=False, revert=f"no '{call.signer}' signer is configured (emergency.yaml:signers)")
            steps.append(step)
            continue
        step.update(await _simulate_one(reader, sender=sender, to=call.to, data=call.data, block=block))
        traced = traced and bool(step.get("traced"))
        if call.effect is not None and step.get("ok"):
            origin, target, data = call.effect
            effect = await _simulate_one(reader, sender=origin, to=target, data=data, block=block)
            effect["note"] = "the eventual effect, simulated as the Timelock"
            step["effect"] = effect
        steps.append(step)
    ok = all(s.get("ok") for s in steps)
    parts = []
    for s in steps:
        if s.get("deferred"):
            parts.append(f"{s['label']}: later")
        elif not s.get("ok"):
            parts.append(f"{s['label']}: would revert — {s.get('revert')}")
        else:
            shown = s.get("effect", s)
            events = _event_text(shown.get("events", [])) if shown.get("traced") else "events not traced"
            if not shown.get("ok", True):
                events = f"effect would revert — {shown.get('revert')}"
            parts.append(f"{s['label']}: gas {s.get('gas')}, {events}")
    suffix = "" if traced else " (this node has no debug_traceCall: call and gas only, no event list)"
    summary = "; ".join(parts) + f". Now: {now.text}{suffix}."
    steps.append({"now": now.text, "observed": now.details})
    return DryRunResult(block_number=head, ok=ok, traced=traced, steps=steps, summary=summary)
