"""Evidence: what the chain and the alerts showed when the incident was declared (or when asked).

:func:`collect` gathers, through the platform's RPC pool, the blocks and transactions the linked alerts
point at (block header, transaction, receipt, and ``debug_traceTransaction`` with the callTracer where
the node offers it — "not offered" otherwise), the contracts' state (``paused()`` of every pausable the
EmergencyController registers, ``tradingHalted()``, holders of every AccessControl role among the
manifest's accounts and contracts via ``hasRole``, token supplies, the reserve's collateral ratio,
value and holdings, ``latestRoundData()`` of every feed) and the alerts' own evidence. The document is
stored as canonical JSON (sorted keys, compact, UTF-8) with its SHA-256; the hash goes into the audit
log (``incident.evidence``), so :func:`verify` can show later that the stored document is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert
from fictra.audit.canonical import dumps, jsonable
from fictra.chain import artifacts
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.rpc import CallReverted, RpcMethodMissing
from fictra.clock import Clock
from fictra.errors import ConflictError, NotFoundError, RpcError
from fictra.incidents.events import audit_change, log_event
from fictra.incidents.models import IncidentAlert, IncidentEvidence
from fictra.incidents.records import load_incident

__all__ = ["EvidenceRecord", "chain_state", "collect", "document_hash", "list_evidence", "verify"]

MAX_TXS = 20
MAX_BLOCKS = 10
NOT_OFFERED = "not offered"
_Call = tuple[str, list[Any]]


def document_hash(document: str) -> str:
    """SHA-256 (hex) over the stored canonical JSON text."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class _Fn:
    """One view function of an artifact: its calldata and its decoded result."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.name = str(entry["name"])
        self.inputs = [str(i["type"]) for i in entry["inputs"]]
        self.outputs = [str(o["type"]) for o in entry.get("outputs", [])]
        signature = f"{self.name}({','.join(self.inputs)})"
        self.selector = keccak(text=signature)[:4]

    def data(self, *args: Any) -> str:
        return "0x" + (self.selector + abi_encode(self.inputs, list(args))).hex()

    def decode(self, result: str) -> Any:
        values = abi_decode(self.outputs, bytes.fromhex(result.removeprefix("0x")))
        return values[0] if len(values) == 1 else list(values)


def _views(artifact: str) -> dict[str, _Fn]:
    return {f.name: f for f in (_Fn(dict(e)) for e in artifacts.load(artifact).entries("function")) if True}


class _Batch:
    """eth_calls collected then sent as one JSON-RPC batch at one block; reverts become values."""

    def __init__(self, block: str) -> None:
        self.block = block
        self.calls: list[_Call] = []
        self.decoders: list[_Fn] = []

    def add(self, address: str, fn: _Fn, *args: Any) -> int:
        self.calls.append(("eth_call", [{"to": address, "data": fn.data(*args)}, self.block]))
        self.decoders.append(fn)
        return len(self.calls) - 1

    async def run(self, pool: RpcPool) -> list[Any]:
        raw = await pool.batch(self.calls, reverts_as_values=True)
        out: list[Any] = []
        for fn, value in zip(self.decoders, raw, strict=True):
            if isinstance(value, CallReverted):
                out.append({"reverted": value.user_message})
            else:
                try:
                    out.append(fn.decode(value))
                except Exception as exc:  # a garbled answer is evidence too
                    out.append({"undecodable": str(value)[:200], "error": type(exc).__name__})
        return out


def _int(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


async def chain_state(pool: RpcPool, manifest: Manifest, *, block: str = "latest") -> dict[str, Any]:
    """The contracts' state at ``block`` (a number as hex or "latest"); integers as decimal strings."""
    number = int(await pool.call("eth_blockNumber"), 16) if block == "latest" else int(block, 16)
    tag = hex(number)
    contracts = manifest.contracts
    views = {name: _views(entry.artifact) for name, entry in contracts.items()}
    first = _Batch(tag)
    slots: dict[str, int] = {}
    if "EmergencyController" in contracts:
        ec, fns = contracts["EmergencyController"].address, views["EmergencyController"]
        slots["pausables"] = first.add(ec, fns["pausables"])
        slots["tradingHalted"] = first.add(ec, fns["tradingHalted"])
    if "Reserve" in contracts:
        rv, fns = contracts["Reserve"].address, views["Reserve"]
        for fn in ("assets", "collateralRatioBps", "reserveValue"):
            slots[f"reserve.{fn}"] = first.add(rv, fns[fn])
    for name in contracts:
        if "totalSupply" in views[name] and "decimals" in views[name] and not name.startswith("Asset"):
            slots[f"supply.{name}"] = first.add(contracts[name].address, views[name]["totalSupply"])
        if "latestRoundData" in views[name]:
            slots[f"feed.{name}"] = first.add(contracts[name].address, views[name]["latestRoundData"])
    got = await first.run(pool)
    state: dict[str, Any] = {"block": number, "paused": {}, "supplies": {}, "oracles": {}, "roles": {}}

    second = _Batch(tag)
    paused_slots: dict[str, int] = {}
    names_by_address = {e.address.lower(): n for n, e in contracts.items()}
    pausables = got[slots["pausables"]] if "pausables" in slots else []
    for addr in pausables if isinstance(pausables, list | tuple) else []:
        label = names_by_address.get(str(addr).lower(), str(addr))
        paused_fn = _Fn({"name": "paused", "inputs": [], "outputs": [{"type": "bool"}]})
        paused_slots[label] = second.add(str(addr), paused_fn)
    if "tradingHalted" in slots:
        state["trading_halted"] = got[slots["tradingHalted"]]
    for key, index in slots.items():
        if key.startswith("supply."):
            state["supplies"][key.removeprefix("supply.")] = _int(got[index])
        elif key.startswith("feed."):
            value = got[index]
            if isinstance(value, list) and len(value) == 5:
                value = dict(
                    zip(
                        ("roundId", "answer", "startedAt", "updatedAt", "answeredInRound"),
                        map(_int, value),
                        strict=True,
                    )
                )
            state["oracles"][key.removeprefix("feed.")] = value
    holdings_slots: list[tuple[str, int, int]] = []
    if "Reserve" in contracts:
        assets = got[slots["reserve.assets"]]
        state["reserve"] = {
            "collateral_ratio_bps": _int(got[slots["reserve.collateralRatioBps"]]),
            "reserve_value": _int(got[slots["reserve.reserveValue"]]),
            "holdings": {},
        }
        erc20 = {
            n: _Fn({"name": n, "inputs": i, "outputs": [{"type": t}]})
            for n, i, t in (("balanceOf", [{"type": "address"}], "uint256"), ("symbol", [], "string"))
        }
        for asset in assets if isinstance(assets, list | tuple) else []:
            a = str(asset)
            holdings_slots.append(
                (
                    a,
                    second.add(a, erc20["balanceOf"], contracts["Reserve"].address),
                    second.add(a, erc20["symbol"]),
                )
            )
    role_slots = _role_calls(second, manifest, views)
    got2 = await second.run(pool)
    for label, index in paused_slots.items():
        state["paused"][label] = got2[index]
    for asset, bal, sym in holdings_slots:
        label = names_by_address.get(asset.lower()) or (got2[sym] if isinstance(got2[sym], str) else asset)
        state["reserve"]["holdings"][label] = {"address": asset, "balance": _int(got2[bal])}
    for (contract, role, holder), index in role_slots.items():
        if got2[index] is True:
            state["roles"].setdefault(contract, {}).setdefault(role, []).append(holder)
    return state


def _role_calls(
    batch: _Batch, manifest: Manifest, views: dict[str, dict[str, _Fn]]
) -> dict[tuple[str, str, str], int]:
    """hasRole(role, account) for every role constant of every AccessControl contract and every named
    account (manifest roles) and contract: who holds what."""
    candidates: dict[str, str] = {}
    for role_name, addresses in manifest.roles.items():
        for i, addr in enumerate(addresses):
            candidates.setdefault(addr.lower(), role_name if len(addresses) == 1 else f"{role_name}[{i}]")
    for name, entry in manifest.contracts.items():
        candidates.setdefault(entry.address.lower(), name)
    out: dict[tuple[str, str, str], int] = {}
    for name, entry in manifest.contracts.items():
        fns = views[name]
        if "hasRole" not in fns:
            continue
        roles = sorted(n for n in fns if n.endswith("_ROLE") and not fns[n].inputs)
        for role in roles:
            role_id = b"\x00" * 32 if role == "DEFAULT_ADMIN_ROLE" else keccak(text=role)
            for addr, label in candidates.items():
                out[(name, role, label)] = batch.add(entry.address, fns["hasRole"], role_id, _checksum(addr))
    return out


def _checksum(addr: str) -> str:
    from eth_utils.address import to_checksum_address

    return to_checksum_address(addr)


async def _tx_evidence(pool: RpcPool, tx_hash: str) -> dict[str, Any]:
    tx, receipt = await pool.batch(
        [("eth_getTransactionByHash", [tx_hash]), ("eth_getTransactionReceipt", [tx_hash])]
    )
    try:
        trace: Any = await pool.call("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
    except RpcMethodMissing:
        trace = NOT_OFFERED
    except RpcError as exc:
        trace = f"{NOT_OFFERED}: {exc.user_message[:200]}"
    return {"transaction": tx, "receipt": receipt, "trace": trace}


async def _block_evidence(pool: RpcPool, number: int) -> dict[str, Any] | None:
    block = await pool.call("eth_getBlockByNumber", [hex(number), False])
    if not isinstance(block, dict):
        return None
    keep = ("number", "hash", "parentHash", "timestamp", "miner", "gasUsed", "gasLimit", "baseFeePerGas")
    return {**{k: block.get(k) for k in keep}, "transactions": list(block.get("transactions") or [])}


def _alert_evidence(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "fingerprint": alert.fingerprint,
        "monitor": alert.monitor,
        "severity": alert.severity,
        "status": alert.status,
        "confirmation": alert.confirmation,
        "summary": alert.summary,
        "labels": dict(alert.labels or {}),
        "evidence": alert.evidence,
        "block_number": alert.block_number,
        "block_hash": alert.block_hash,
        "tx_hashes": list(alert.tx_hashes or []),
        "fired_at": alert.fired_at,
        "history": list(alert.history or [])[-5:],
    }


def _pointers(alerts: Sequence[Alert]) -> tuple[list[int], list[str]]:
    blocks: list[int] = []
    txs: list[str] = []
    for alert in alerts:
        if alert.block_number is not None:
            blocks.append(int(alert.block_number))
        txs.extend(alert.tx_hashes or [])
        for occ in alert.history or []:
            if isinstance(occ, dict):
                if isinstance(occ.get("block_number"), int):
                    blocks.append(occ["block_number"])
                txs.extend(str(t) for t in occ.get("tx_hashes") or [])
    return sorted(set(blocks))[-MAX_BLOCKS:], list(dict.fromkeys(txs))[:MAX_TXS]


class EvidenceRecord(dict[str, Any]):
    """id, incident_id, sha256, collected_at, collected_by, trigger, summary."""


def _record(row: IncidentEvidence) -> EvidenceRecord:
    return EvidenceRecord(
        id=row.id,
        incident_id=row.incident_id,
        sha256=row.sha256,
        collected_at=row.collected_at,
        collected_by=row.collected_by,
        trigger=row.trigger,
        summary=row.summary,
        size=len(row.document.encode("utf-8")),
    )


async def gather(
    session: AsyncSession,
    *,
    incident_id: int,
    pool: RpcPool,
    manifest: Manifest,
    clock: Clock,
    alert_ids: Iterable[int] | None = None,
) -> dict[str, Any]:
    """The evidence document (not stored). ``alert_ids`` defaults to the incident's linked alerts."""
    if alert_ids is None:
        linked = select(IncidentAlert.alert_id).where(IncidentAlert.incident_id == incident_id)
        ids = list((await session.execute(linked)).scalars())
    else:
        ids = sorted(set(alert_ids))
    alerts = list(
        (await session.execute(select(Alert).where(Alert.id.in_(ids)).order_by(Alert.id))).scalars()
    )
    missing = sorted(set(ids) - {a.id for a in alerts})
    if missing:
        raise NotFoundError(f"No alert with id {', '.join(map(str, missing))}.")
    block_numbers, tx_hashes = _pointers(alerts)
    blocks = {}
    for number in block_numbers:
        blocks[str(number)] = await _block_evidence(pool, number)
    txs = {tx: await _tx_evidence(pool, tx) for tx in tx_hashes}
    document: dict[str, Any] = jsonable(
        {
            "incident_id": incident_id,
            "collected_at": clock.now(),
            "network": manifest.network,
            "chain_id": manifest.chain_id,
            "alerts": [_alert_evidence(a) for a in alerts],
            "blocks": blocks,
            "transactions": txs,
            "state": await chain_state(pool, manifest),
        }
    )
    return document


async def collect(
    session: AsyncSession,
    *,
    incident_id: int,
    pool: RpcPool,
    manifest: Manifest,
    clock: Clock,
    actor: object,
    alert_ids: Iterable[int] | None = None,
    trigger: str = "on_demand",
) -> EvidenceRecord:
    """Gather, store and audit one evidence document; returns its record (with the SHA-256).

    RPC calls happen before anything is written, so a failing node leaves nothing half-stored; the
    caller's transaction then holds the row, the timeline entry and the audit entry together."""
    incident = await load_incident(session, incident_id)
    document = dumps(
        await gather(
            session, incident_id=incident_id, pool=pool, manifest=manifest, clock=clock, alert_ids=alert_ids
        )
    )
    digest = document_hash(document)
    parsed: dict[str, Any] = json.loads(document)
    state = parsed["state"]
    summary = {
        "block": state.get("block"),
        "alerts": [a["id"] for a in parsed["alerts"]],
        "blocks": sorted(parsed["blocks"]),
        "transactions": sorted(parsed["transactions"]),
        "paused": state.get("paused"),
        "trading_halted": state.get("trading_halted"),
        "collateral_ratio_bps": (state.get("reserve") or {}).get("collateral_ratio_bps"),
        "traces": sorted(
            {
                "offered" if not str(t.get("trace", "")).startswith(NOT_OFFERED) else NOT_OFFERED
                for t in parsed["transactions"].values()
            }
        ),
    }
    row = IncidentEvidence(
        incident_id=incident.id,
        collected_at=clock.now(),
        collected_by=_name(actor),
        trigger=trigger,
        sha256=digest,
        document=document,
        summary=summary,
    )
    session.add(row)
    await session.flush()
    paused = summary["paused"] or {}
    n_paused = sum(1 for v in paused.values() if v is True)
    await log_event(
        session,
        incident_id=incident.id,
        kind="evidence",
        actor=actor,
        clock=clock,
        text=f"Evidence #{row.id} collected at block {summary['block']} ({trigger}): "
        f"{len(summary['alerts'])} alert(s), {len(summary['blocks'])} block(s), "
        f"{len(summary['transactions'])} transaction(s), {n_paused}/{len(paused)} contracts paused; "
        f"sha256 {digest}",
        ref=f"evidence:{row.id}",
        details={"evidence_id": row.id, "sha256": digest, **summary},
    )
    await audit_change(
        session,
        actor=actor,
        action="incident.evidence",
        incident_id=incident.id,
        clock=clock,
        after={"sha256": digest, "evidence_id": row.id, "trigger": trigger, "block": summary["block"]},
    )
    return _record(row)


def _name(actor: object) -> str:
    from fictra.audit.service import actor_name

    return actor_name(actor)


async def list_evidence(session: AsyncSession, *, incident_id: int) -> list[EvidenceRecord]:
    await load_incident(session, incident_id)
    rows = await session.execute(
        select(IncidentEvidence)
        .where(IncidentEvidence.incident_id == incident_id)
        .order_by(IncidentEvidence.id)
    )
    return [_record(r) for r in rows.scalars()]


async def get_document(session: AsyncSession, *, incident_id: int, evidence_id: int) -> str:
    row = await session.get(IncidentEvidence, evidence_id)
    if row is None or row.incident_id != incident_id:
        raise NotFoundError(f"Incident {incident_id} has no evidence {evidence_id}.")
    return row.document


async def verify(session: AsyncSession, *, incident_id: int, evidence_id: int) -> dict[str, Any]:
    """Recompute the stored document's SHA-256 and compare it with the stored hash and with the hash
    the audit log recorded. ConflictError naming the mismatch when either differs."""
    from fictra.audit.models import AuditEntry

    row = await session.get(IncidentEvidence, evidence_id, populate_existing=True)
    if row is None or row.incident_id != incident_id:
        raise NotFoundError(f"Incident {incident_id} has no evidence {evidence_id}.")
    recomputed = document_hash(row.document)
    audited = None
    entries = await session.execute(
        select(AuditEntry.after)
        .where(AuditEntry.action == "incident.evidence", AuditEntry.target == f"incident:{incident_id}")
        .order_by(AuditEntry.idx)
    )
    for after in entries.scalars():
        if isinstance(after, dict) and after.get("evidence_id") == evidence_id:
            audited = after.get("sha256")
    if recomputed != row.sha256 or recomputed != audited:
        raise ConflictError(
            f"Evidence {evidence_id} of incident {incident_id} does not verify: the document hashes to "
            f"{recomputed}, the stored hash is {row.sha256} and the audit log recorded "
            f"{audited or 'nothing'}. The stored document was altered; restore it from a backup and "
            "run `fictra audit verify`."
        )
    return {"evidence_id": evidence_id, "sha256": recomputed, "verified": True}
