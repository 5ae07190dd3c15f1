"""The rules engine as a :class:`~fictra.monitors.base.Monitor`: one monitor that evaluates every CEL rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.chain.decode import AbiEntry
from fictra.chain.manifest import Manifest
from fictra.chain.types import BlockBatch, Reorg
from fictra.monitors.base import MonitorOutput
from fictra.monitors.state import Conditions
from fictra.rules.config import EventRuleConfig
from fictra.rules.engine import RulesEngine


def manifest_abis(manifest: Manifest) -> dict[str, Sequence[AbiEntry]]:
    """Address -> ABI for every manifest contract, from the shipped artifacts."""
    from fictra.chain import artifacts

    return {entry.address: artifacts.load(entry.artifact).abi for entry in manifest.contracts.values()}


class RulesMonitor:
    """Each occurrence of a rule is counted on the rule's alert. A one-off rule's alert stays firing
    until an operator resolves it; an informational rule (``resolve_after_blocks``) resolves by itself
    that many blocks after its last occurrence — its open alerts are part of the monitor's snapshot, so
    they resolve at the same block after a restart.

    A rule that fails to evaluate is reported as one P3 alert per rule (monitor ``rules-engine``,
    label ``rule``), counted once per batch in which it failed, so a broken rule is visible without
    flooding the log or stopping the pipeline."""

    name = "rules"

    def __init__(
        self, engine: RulesEngine, *, error_severity: Severity = Severity.P3, network: str = "devnet"
    ) -> None:
        self.engine = engine
        self.error_severity = error_severity
        self._reported: dict[str, int] = {}
        self.expiry = {
            name: cfg.resolve_after_blocks
            for name, cfg in engine.configs.items()
            if cfg.resolve_after_blocks is not None
        }
        self.open = {name: Conditions(monitor=name, network=network) for name in self.expiry}

    @classmethod
    def from_manifest(cls, rules: Sequence[EventRuleConfig], manifest: Manifest) -> RulesMonitor:
        contracts = {name: entry.address for name, entry in manifest.contracts.items()}
        engine = RulesEngine(
            rules, contracts=contracts, abis=manifest_abis(manifest), network=manifest.network
        )
        return cls(engine, network=manifest.network)

    # -- state persisted with the checkpoint --------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {"open": {name: cond.snapshot() for name, cond in self.open.items()}}

    def restore(self, state: dict[str, Any] | None) -> None:
        saved = (state or {}).get("open", {})
        for name, cond in self.open.items():
            cond.restore(saved.get(name))  # a rule not in the snapshot takes over from the alert store

    # -- batches ------------------------------------------------------------------------------------

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        out = MonitorOutput()
        for cond in self.open.values():
            await cond.resume(session)
        for finding in self.engine.evaluate_batch(batch):
            open_rule = self.open.get(finding.monitor)
            if open_rule is None:
                out.findings.append(finding)
            else:
                open_rule.hold(
                    finding, out, always=True
                )  # every occurrence counts; the latest sets the expiry
        if batch.blocks:
            self._expire(batch, out)
        for rule, stat in self.engine.errors.items():
            if stat.count == self._reported.get(rule, 0):
                continue
            self._reported[rule] = stat.count
            out.findings.append(
                Finding(
                    monitor="rules-engine",
                    severity=self.error_severity,
                    summary=f"Rule {rule} failed to evaluate ({stat.count} errors): {stat.first_message}",
                    labels={"rule": rule, "condition": "evaluation_error"},
                    network=batch.network,
                    evidence={"errors_total": stat.count, "first_error": stat.first_message},
                )
            )
        return out

    def _expire(self, batch: BlockBatch, out: MonitorOutput) -> None:
        last = batch.blocks[-1]
        at = BlockRef(last.number, last.hash)
        for name, cond in self.open.items():
            after = self.expiry[name]
            for finding in list(cond.active.values()):
                if finding.block is None or finding.block.number + after <= last.number:
                    cond.release(finding.labels, out, block=at)

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        for cond in self.open.values():
            cond.forget_after(reorg.common_ancestor)
        return MonitorOutput()
