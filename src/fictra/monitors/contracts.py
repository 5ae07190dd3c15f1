"""Contract status (block-driven): once per batch one JSON-RPC batch of reads at the batch's last
block — ``paused()`` of every watched pausable contract, ``EmergencyController.tradingHalted()``, the
ERC-1967 implementation slot of every proxy, ``Reserve.reserveValue()`` vs
``PaymentToken.totalSupply()`` and (at most once per ``interval`` of block time) the code hash of every
watched contract — plus the role events of the batch's logs (RoleGranted/RoleRevoked/RoleAdminChanged/
OwnershipTransferred). Paused, halted and reserve-breach conditions clear when the state is normal
again; code and implementation changes, role grants and admin changes are one-off findings.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.rpc import Call, CallReverted
from fictra.chain.types import Block, BlockBatch, Log, Reorg
from fictra.clock import Clock
from fictra.monitors.base import MonitorOutput
from fictra.monitors.baseline_store import load_baselines, save_baselines
from fictra.monitors.common import (
    ContractIndex,
    Watched,
    block_finding,
    decode_word,
    has_data,
    ref,
    selector,
    topic,
)
from fictra.monitors.config import ContractStatusMonitor
from fictra.monitors.roles import RoleEvents, address_of
from fictra.monitors.state import Conditions, label_key

IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"
WITHDRAWN = topic("Withdrawn(address,uint256,address)")
UPGRADED = topic("Upgraded(address)")
PAUSED, HALTED = selector("paused()"), selector("tradingHalted()")
RESERVE_VALUE, TOTAL_SUPPLY = selector("reserveValue()"), selector("totalSupply()")


@dataclass(frozen=True, slots=True)
class Read:
    kind: str  # paused | halted | code | impl | reserve_value | supply
    contract: str
    call: Call


class ContractStatusCheck:
    def __init__(
        self, *, config: ContractStatusMonitor, manifest: Manifest, pool: RpcPool, clock: Clock
    ) -> None:
        self.config = config
        self.clock = clock
        self.name = config.name
        self.network = manifest.network
        self.pool = pool
        self.index = ContractIndex.from_manifest(manifest, config.contracts)
        self.roles = RoleEvents(config=config, manifest=manifest, index=self.index)
        self.reserve = manifest.contracts.get("Reserve")
        self.token = manifest.contracts.get("PaymentToken")
        self.code_hashes: dict[str, str] = {}
        # (block, map, contract, value before): what a reorg below that block must undo
        self.learned: deque[tuple[int, dict[str, str], str, str | None]] = deque(maxlen=1024)
        self.implementations: dict[str, str] = {
            w.name: w.implementation for w in self.index.by_name.values() if w.proxy and w.implementation
        }
        self.code_checked_at: int | None = None  # block timestamp of the last code-hash check
        self.known_key = f"{config.name}#known"  # code hashes / implementations persisted under this key
        self.saved: dict[str, str] | None = None  # what the store holds (None: not loaded yet)
        self.conditions = Conditions(monitor=config.name, network=self.network)

    # -- reads ------------------------------------------------------------------------------------

    def _reads(self, block: Block) -> list[Read]:
        tag = hex(block.number)
        reads: list[Read] = []
        for w in self.index.by_name.values():
            if "paused" in w.functions.values():
                reads.append(Read("paused", w.name, ("eth_call", [{"to": w.address, "data": PAUSED}, tag])))
            if "tradingHalted" in w.functions.values():
                reads.append(Read("halted", w.name, ("eth_call", [{"to": w.address, "data": HALTED}, tag])))
            if w.proxy:
                reads.append(
                    Read("impl", w.name, ("eth_getStorageAt", [w.address, IMPLEMENTATION_SLOT, tag]))
                )
        interval = self.config.interval.total_seconds()
        if self.code_checked_at is None or block.timestamp - self.code_checked_at >= interval:
            self.code_checked_at = block.timestamp
            reads += [
                Read("code", w.name, ("eth_getCode", [w.address, tag])) for w in self.index.by_name.values()
            ]
        if (
            self.config.thresholds.min_collateral_ratio is not None
            and self.reserve is not None
            and self.token is not None
            and "Reserve" in self.index.by_name
        ):
            reads.append(
                Read(
                    "reserve_value",
                    "Reserve",
                    ("eth_call", [{"to": self.reserve.address, "data": RESERVE_VALUE}, tag]),
                )
            )
            reads.append(
                Read(
                    "supply",
                    "PaymentToken",
                    ("eth_call", [{"to": self.token.address, "data": TOTAL_SUPPLY}, tag]),
                )
            )
        return reads

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        if not batch.blocks:
            return MonitorOutput()
        await self.conditions.resume(session)
        await self._load_known(session)
        out = MonitorOutput()
        for block in batch.blocks:
            for log in block.logs:
                watched = self.index.get(log.address)
                if watched is not None and log.topics:
                    self._event(watched, log, block, out)
        last = batch.blocks[-1]
        reads = self._reads(last)
        # A read that reverts (e.g. a contract not yet initialized at an early block) is left out.
        # a node without that block's state (not an archive node) answers at the head: marked below
        state_reads = await self.pool.read_state([r.call for r in reads])
        answers = state_reads.answers
        values = {
            (r.kind, r.contract): a
            for r, a in zip(reads, answers, strict=True)
            if not isinstance(a, CallReverted) and has_data(a)  # "0x": no code yet at that block
        }
        judged = len(out.findings)
        self._state(values, last, batch, out)
        state_reads.mark(f.evidence for f in out.findings[judged:])
        await self._save_known(session)
        return out

    # -- known code hashes and implementations (survive restarts) ---------------------------------

    def _known(self) -> dict[str, str]:
        return {
            **{f"code:{n}": h for n, h in self.code_hashes.items()},
            **{f"impl:{n}": i for n, i in self.implementations.items()},
        }

    async def _load_known(self, session: AsyncSession) -> None:
        if self.saved is not None:
            return
        stored = await load_baselines(session, monitor=self.known_key)
        for key, state in stored.items():
            kind, _, name = key.partition(":")
            target = self.code_hashes if kind == "code" else self.implementations
            if name in self.index.by_name and isinstance(state.get("value"), str):
                target[name] = state["value"]
        self.saved = {k: str(v.get("value")) for k, v in stored.items()}

    async def _save_known(self, session: AsyncSession) -> None:
        known = self._known()
        changed = {k: {"value": v} for k, v in known.items() if (self.saved or {}).get(k) != v}
        if changed:
            await save_baselines(session, monitor=self.known_key, states=changed, clock=self.clock)
            self.saved = known

    # -- events -----------------------------------------------------------------------------------

    def _finding(
        self,
        severity: Severity,
        summary: str,
        labels: dict[str, str],
        block: BlockRef,
        evidence: dict[str, object],
        tx_hashes: tuple[str, ...] = (),
    ) -> Finding:
        return block_finding(
            self.config,
            network=self.network,
            severity=severity,
            summary=summary,
            labels=labels,
            block=block,
            evidence=evidence,
            tx_hashes=tx_hashes,
        )

    def _event(self, w: Watched, log: Log, block: Block, out: MonitorOutput) -> None:
        t0, at = log.topics[0], ref(block)
        if t0 == UPGRADED and w.proxy and len(log.topics) == 2:
            # seen in the logs too, so an upgrade and a roll-back within one batch is not missed
            self._changed(
                w.name,
                "implementation_changed",
                self.implementations,
                address_of(log.topics[1]),
                at,
                out,
                (log.tx_hash,),
            )
            return
        found = self.roles.event(w, log, at)
        if found is not None:
            out.extend(found)

    # -- state ------------------------------------------------------------------------------------

    def _state(
        self, values: dict[tuple[str, str], Any], last: Block, batch: BlockBatch, out: MonitorOutput
    ) -> None:
        sev, at = self.config.severity, ref(last)
        paused: list[str] = []
        pause_read = False
        for (kind, name), raw in values.items():
            if kind == "paused":
                pause_read = True
                if decode_word(raw, "bool", what=f"{name}.paused"):
                    paused.append(name)
            elif kind == "halted":
                labels = {"contract": name, "condition": "trading_halted"}
                if decode_word(raw, "bool", what=f"{name}.halted"):
                    summary = f"{name} has halted trading at block {last.number}"
                    evidence: dict[str, object] = {"observed": True, "expected": False}
                    self.conditions.hold(
                        self._finding(sev.trading_halted, summary, labels, at, evidence), out
                    )
                else:
                    self.conditions.release(labels, out, block=at)
            elif kind == "impl":
                if int(str(raw), 16) == 0:  # proxy not deployed yet at this block
                    continue
                self._changed(
                    name, "implementation_changed", self.implementations, address_of(str(raw)), at, out
                )
            elif kind == "code":
                code_hash = "0x" + keccak(hexstr=str(raw)).hex()
                self._changed(name, "code_changed", self.code_hashes, code_hash, at, out)
        if pause_read:
            self._paused(sorted(paused), last, at, out)
        if ("reserve_value", "Reserve") in values and ("supply", "PaymentToken") in values:
            value = int(
                decode_word(values[("reserve_value", "Reserve")], "uint256", what="Reserve.reserveValue")
            )
            supply = int(
                decode_word(values[("supply", "PaymentToken")], "uint256", what="PaymentToken.totalSupply")
            )
            self._reserve(value, supply, batch, at, out)

    def _paused(self, paused: list[str], last: Block, at: BlockRef, out: MonitorOutput) -> None:
        """One condition for every paused contract (a pauseAll is one P0, not one per contract): the
        affected contracts are listed in the summary and the evidence; a change of the set while it holds
        is reported again on the same alert; unpausing them all clears it."""
        labels = {"condition": "paused"}
        for old in self.conditions.matching(condition="paused"):
            if old != labels:  # a per-contract condition left firing by an earlier version
                self.conditions.release(old, out, block=at)
        if not paused:
            self.conditions.release(labels, out, block=at)
            return
        before = self.conditions.active.get(label_key(labels))
        known = before.evidence.get("contracts") if before is not None else None
        changed = known is not None and known != paused  # None: taken over after a restart
        summary = f"{len(paused)} contract(s) paused at block {last.number}: {', '.join(paused)}"
        evidence: dict[str, object] = {"contracts": paused, "observed": True, "expected": False}
        finding = self._finding(self.config.severity.paused, summary, labels, at, evidence)
        self.conditions.hold(finding, out, always=changed)

    def _changed(
        self,
        name: str,
        condition: str,
        known: dict[str, str],
        observed: str,
        at: BlockRef,
        out: MonitorOutput,
        tx_hashes: tuple[str, ...] = (),
    ) -> None:
        before = known.get(name)
        known[name] = observed
        if before == observed:
            return
        self.learned.append((at.number, known, name, before))
        if before is None:
            return
        severity = getattr(self.config.severity, condition)
        what = "implementation" if condition == "implementation_changed" else "code hash"
        out.findings.append(
            self._finding(
                severity,
                f"{name} {what} changed from {before} to {observed}",
                {"contract": name, "condition": condition},
                at,
                {"observed": observed, "expected": before},
                tx_hashes,
            )
        )

    def _reserve(self, value: int, supply: int, batch: BlockBatch, at: BlockRef, out: MonitorOutput) -> None:
        minimum = self.config.thresholds.min_collateral_ratio
        labels = {"contract": "Reserve", "condition": "reserve_breach"}
        if minimum is None or supply == 0 or value / supply >= minimum:
            self.conditions.release(labels, out, block=at)
            return
        reserve = self.reserve.address.lower() if self.reserve else ""
        withdrawals = tuple(
            log.tx_hash
            for block in batch.blocks
            for log in block.logs
            if log.address == reserve and log.topics and log.topics[0] == WITHDRAWN
        )
        self.conditions.hold(
            self._finding(
                self.config.severity.reserve_breach,
                f"Reserve collateral ratio {value / supply:.3f} is below {minimum} "
                f"(reserve {value / 1e18:,.0f} USD vs {supply / 1e18:,.0f} PT)",
                labels,
                at,
                {
                    "observed_ratio": value / supply,
                    "threshold": minimum,
                    "reserve_value": str(value),
                    "pt_supply": str(supply),
                    "withdrawals": list(withdrawals),
                },
                withdrawals[:10],
            ),
            out,
        )

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        """Undo code hashes / implementations learned in removed blocks (an upgrade that is reorged
        away is not a change back on the new branch)."""
        while self.learned and self.learned[-1][0] > reorg.common_ancestor:
            _block, known, name, before = self.learned.pop()
            if before is None:
                known.pop(name, None)
            else:
                known[name] = before
        self.code_checked_at = None
        self.conditions.forget_after(reorg.common_ancestor)
        return MonitorOutput()
