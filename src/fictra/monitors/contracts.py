"""Contract status (block-driven): once per batch one JSON-RPC batch of reads at the batch's last
block — ``paused()`` of every watched pausable contract, ``EmergencyController.tradingHalted()``, the
ERC-1967 implementation slot of every proxy, ``Reserve.reserveValue()`` vs
``PaymentToken.totalSupply()`` and (at most once per ``interval`` of block time) the code hash of every
watched contract — plus the role events of the batch's logs (RoleGranted/RoleRevoked/RoleAdminChanged/
OwnershipTransferred). Paused, halted and reserve-breach conditions clear when the state is normal
again; code and implementation changes, role grants and admin changes are one-off findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef, Clear, Finding, Severity
from fictra.chain.pool import RpcPool
from fictra.chain.rpc import Call, CallReverted
from fictra.chain.types import Block, BlockBatch, Log, Reorg
from fictra.clock import Clock
from fictra.devnet.manifest import Manifest
from fictra.monitors.base import MonitorOutput
from fictra.monitors.common import (
    ZERO_ROLE,
    ContractIndex,
    Watched,
    decode_word,
    has_data,
    ref,
    selector,
    topic,
)
from fictra.monitors.config import ContractStatusMonitor
from fictra.monitors.state import Conditions
from fictra.rules.baselines import load_baselines, save_baselines

IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"
ROLE_GRANTED = topic("RoleGranted(bytes32,address,address)")
ROLE_REVOKED = topic("RoleRevoked(bytes32,address,address)")
ROLE_ADMIN_CHANGED = topic("RoleAdminChanged(bytes32,bytes32,bytes32)")
OWNERSHIP = topic("OwnershipTransferred(address,address)")
WITHDRAWN = topic("Withdrawn(address,uint256,address)")
UPGRADED = topic("Upgraded(address)")
PAUSED, HALTED = selector("paused()"), selector("tradingHalted()")
RESERVE_VALUE, TOTAL_SUPPLY = selector("reserveValue()"), selector("totalSupply()")
OUTSIDER_ROLES = frozenset({"attacker"})  # devnet manifest roles that are not trusted accounts


def _addr(word: str) -> str:
    return "0x" + word[-40:]


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
        trusted = {
            a.lower() for role, addrs in manifest.roles.items() if role not in OUTSIDER_ROLES for a in addrs
        }
        trusted |= {a.lower() for a in config.authorized_accounts}
        trusted |= {e.address.lower() for e in manifest.contracts.values()}
        self.trusted = trusted
        self.role_names: dict[str, str] = {ZERO_ROLE: "DEFAULT_ADMIN_ROLE"}
        for w in self.index.by_name.values():
            for fn in w.functions.values():
                if fn.endswith("_ROLE") and fn != "DEFAULT_ADMIN_ROLE":
                    self.role_names["0x" + keccak(text=fn).hex()] = fn
        self.reserve = manifest.contracts.get("Reserve")
        self.token = manifest.contracts.get("PaymentToken")
        self.code_hashes: dict[str, str] = {}
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
        answers = await self.pool.batch([r.call for r in reads], reverts_as_values=True)
        values = {
            (r.kind, r.contract): a
            for r, a in zip(reads, answers, strict=True)
            if not isinstance(a, CallReverted) and has_data(a)  # "0x": no code yet at that block
        }
        self._state(values, last, batch, out)
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
        return Finding(
            monitor=self.name,
            severity=severity,
            summary=summary,
            labels=labels,
            network=self.network,
            block=block,
            tx_hashes=tx_hashes,
            evidence=evidence,
            confirmations=self.config.confirmations,
        )

    def _event(self, w: Watched, log: Log, block: Block, out: MonitorOutput) -> None:
        sev, t0, at = self.config.severity, log.topics[0], ref(block)
        if t0 in (ROLE_GRANTED, ROLE_REVOKED) and len(log.topics) == 4:
            role = self.role_names.get(log.topics[1], log.topics[1])
            account, sender = _addr(log.topics[2]), _addr(log.topics[3])
            evidence: dict[str, object] = {"role": role, "account": account, "sender": sender}
            if t0 == ROLE_REVOKED:
                condition, severity, verb = "role_revoked", sev.role_revoked, "revoked from"
            elif account in self.trusted:
                condition, severity, verb = "role_granted", sev.role_granted, "granted to"
            else:
                condition, severity, verb = (
                    "unauthorized_role_grant",
                    sev.unauthorized_role_grant,
                    "granted to",
                )
                evidence["expected"] = "an account in the manifest roles or authorized_accounts"
            labels = {"contract": w.name, "condition": condition, "role": role, "account": account}
            summary = f"{w.name}: {role} {verb} {account} by {sender}"
            out.findings.append(self._finding(severity, summary, labels, at, evidence, (log.tx_hash,)))
            if t0 == ROLE_REVOKED:  # an unauthorized holder losing the role ends that condition
                unauthorized = {**labels, "condition": "unauthorized_role_grant"}
                out.clears.append(Clear(self.name, unauthorized, network=self.network, block=at))
        elif t0 == ROLE_ADMIN_CHANGED and len(log.topics) == 4:
            role = self.role_names.get(log.topics[1], log.topics[1])
            old, new = (self.role_names.get(x, x) for x in log.topics[2:4])
            labels = {"contract": w.name, "condition": "admin_changed", "role": role}
            out.findings.append(
                self._finding(
                    sev.admin_changed,
                    f"{w.name}: admin role of {role} changed from {old} to {new}",
                    labels,
                    at,
                    {"role": role, "previous_admin_role": old, "new_admin_role": new},
                    (log.tx_hash,),
                )
            )
        elif t0 == UPGRADED and w.proxy and len(log.topics) == 2:
            # seen in the logs too, so an upgrade and a roll-back within one batch is not missed
            self._changed(
                w.name,
                "implementation_changed",
                self.implementations,
                _addr(log.topics[1]),
                at,
                out,
                (log.tx_hash,),
            )
        elif t0 == OWNERSHIP and len(log.topics) == 3:
            old, new = _addr(log.topics[1]), _addr(log.topics[2])
            labels = {"contract": w.name, "condition": "admin_changed", "role": "owner"}
            out.findings.append(
                self._finding(
                    sev.admin_changed,
                    f"{w.name}: ownership transferred from {old} to {new}",
                    labels,
                    at,
                    {"previous_owner": old, "new_owner": new},
                    (log.tx_hash,),
                )
            )

    # -- state ------------------------------------------------------------------------------------

    def _state(
        self, values: dict[tuple[str, str], Any], last: Block, batch: BlockBatch, out: MonitorOutput
    ) -> None:
        sev, at = self.config.severity, ref(last)
        for (kind, name), raw in values.items():
            if kind in ("paused", "halted"):
                on = bool(decode_word(raw, "bool", what=f"{name}.{kind}"))
                condition = "paused" if kind == "paused" else "trading_halted"
                labels = {"contract": name, "condition": condition}
                if on:
                    severity = sev.paused if kind == "paused" else sev.trading_halted
                    word = "paused" if kind == "paused" else "has halted trading"
                    summary = f"{name} is {word} at block {last.number}"
                    self.conditions.hold(
                        self._finding(severity, summary, labels, at, {"observed": True, "expected": False}),
                        out,
                    )
                else:
                    self.conditions.release(labels, out, block=at)
            elif kind == "impl":
                if int(str(raw), 16) == 0:  # proxy not deployed yet at this block
                    continue
                self._changed(name, "implementation_changed", self.implementations, _addr(str(raw)), at, out)
            elif kind == "code":
                code_hash = "0x" + keccak(hexstr=str(raw)).hex()
                self._changed(name, "code_changed", self.code_hashes, code_hash, at, out)
        if ("reserve_value", "Reserve") in values and ("supply", "PaymentToken") in values:
            value = int(
                decode_word(values[("reserve_value", "Reserve")], "uint256", what="Reserve.reserveValue")
            )
            supply = int(
                decode_word(values[("supply", "PaymentToken")], "uint256", what="PaymentToken.totalSupply")
            )
            self._reserve(value, supply, batch, at, out)

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
        if before is None or before == observed:
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
        self.conditions.forget_after(reorg.common_ancestor)
        return MonitorOutput()
