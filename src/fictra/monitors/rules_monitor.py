"""The rules engine as a :class:`~fictra.monitors.base.Monitor`: one monitor that evaluates every CEL rule."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Finding, Severity
from fictra.chain.decode import AbiEntry
from fictra.chain.manifest import Manifest
from fictra.chain.types import BlockBatch, Reorg
from fictra.monitors.base import MonitorOutput
from fictra.rules.config import EventRuleConfig
from fictra.rules.engine import RulesEngine


def manifest_abis(manifest: Manifest) -> dict[str, Sequence[AbiEntry]]:
    """Address -> ABI for every manifest contract, from the shipped artifacts."""
    from fictra.chain import artifacts

    return {entry.address: artifacts.load(entry.artifact).abi for entry in manifest.contracts.values()}


class RulesMonitor:
    """Event rules never clear by themselves: each occurrence is counted on the rule's alert.

    A rule that fails to evaluate is reported as one P3 alert per rule (monitor ``rules-engine``,
    label ``rule``), counted once per batch in which it failed, so a broken rule is visible without
    flooding the log or stopping the pipeline."""

    name = "rules"

    def __init__(self, engine: RulesEngine, *, error_severity: Severity = Severity.P3) -> None:
        self.engine = engine
        self.error_severity = error_severity
        self._reported: dict[str, int] = {}

    @classmethod
    def from_manifest(cls, rules: Sequence[EventRuleConfig], manifest: Manifest) -> RulesMonitor:
        contracts = {name: entry.address for name, entry in manifest.contracts.items()}
        engine = RulesEngine(
            rules, contracts=contracts, abis=manifest_abis(manifest), network=manifest.network
        )
        return cls(engine)

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        findings = self.engine.evaluate_batch(batch)
        for rule, stat in self.engine.errors.items():
            if stat.count == self._reported.get(rule, 0):
                continue
            self._reported[rule] = stat.count
            findings.append(
                Finding(
                    monitor="rules-engine",
                    severity=self.error_severity,
                    summary=f"Rule {rule} failed to evaluate ({stat.count} errors): {stat.first_message}",
                    labels={"rule": rule, "condition": "evaluation_error"},
                    network=batch.network,
                    evidence={"errors_total": stat.count, "first_error": stat.first_message},
                )
            )
        return MonitorOutput(findings=findings)

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        return MonitorOutput()
