"""What the platform builds of the compliance domain (``platform.domains``): the screening block monitor and
the polled monitors (KYC, the filings calendar, the regulators' feeds), from compliance.yaml and the
deployment manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fictra.chain.manifest import Manifest
from fictra.clock import Clock
from fictra.compliance.config import ComplianceConfig
from fictra.compliance.filings import FeedsMonitor, FilingsMonitor
from fictra.compliance.kyc_monitor import KycMonitor
from fictra.compliance.monitor import ScreeningMonitor
from fictra.monitors.base import PolledMonitor

__all__ = ["ComplianceContext"]


@dataclass
class ComplianceContext:
    config: ComplianceConfig
    clock: Clock
    screening: ScreeningMonitor | None = field(default=None)
    kyc: KycMonitor | None = field(default=None)
    polled: list[PolledMonitor] = field(default_factory=list)

    @classmethod
    def build(
        cls, *, config: ComplianceConfig, clock: Clock, manifest: Manifest, base_dir: Path | None = None
    ) -> ComplianceContext:
        ctx = cls(config=config, clock=clock)
        if config.screening.enabled:
            ctx.screening = ScreeningMonitor(config=config, manifest=manifest, clock=clock)
        ctx.kyc = KycMonitor(config=config, clock=clock, network=manifest.network)
        ctx.polled.append(ctx.kyc)
        if config.filings:
            ctx.polled.append(FilingsMonitor(config=config, clock=clock, network=manifest.network))
        if config.feeds:
            base = base_dir or Path.cwd()
            ctx.polled.append(
                FeedsMonitor(config=config, clock=clock, network=manifest.network, base_dir=base)
            )
        return ctx
