"""The rules engine as a :class:`~fictra.monitors.base.Monitor`: one monitor that evaluates every CEL rule."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.chain.types import BlockBatch, Reorg
from fictra.devnet.manifest import Manifest
from fictra.monitors.base import MonitorOutput
from fictra.rules.config import EventRuleConfig
from fictra.rules.decode import AbiEntry
from fictra.rules.engine import RulesEngine


def manifest_abis(manifest: Manifest) -> dict[str, Sequence[AbiEntry]]:
    """Address -> ABI for every manifest contract, from the shipped artifacts."""
    from fictra.chain import artifacts

    return {entry.address: artifacts.load(entry.artifact).abi for entry in manifest.contracts.values()}


class RulesMonitor:
    """Event rules never clear by themselves: each occurrence is counted on the rule's alert."""

    name = "rules"

    def __init__(self, engine: RulesEngine) -> None:
        self.engine = engine

    @classmethod
    def from_manifest(cls, rules: Sequence[EventRuleConfig], manifest: Manifest) -> RulesMonitor:
        contracts = {name: entry.address for name, entry in manifest.contracts.items()}
        engine = RulesEngine(
            rules, contracts=contracts, abis=manifest_abis(manifest), network=manifest.network
        )
        return cls(engine)

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        return MonitorOutput(findings=self.engine.evaluate_batch(batch))

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        return MonitorOutput()
