"""What the platform builds of the compliance domain (``platform.domains``): the screening block monitor and
the KYC polled monitor, from compliance.yaml and the deployment manifest."""

from __future__ import annotations

from dataclasses import dataclass, field

from fictra.chain.manifest import Manifest
from fictra.clock import Clock
from fictra.compliance.config import ComplianceConfig
from fictra.compliance.kyc_monitor import KycMonitor
from fictra.compliance.monitor import ScreeningMonitor

__all__ = ["ComplianceContext"]


@dataclass
class ComplianceContext:
    config: ComplianceConfig
    clock: Clock
    screening: ScreeningMonitor | None = field(default=None)
    kyc: KycMonitor | None = field(default=None)

    @classmethod
    def build(cls, *, config: ComplianceConfig, clock: Clock, manifest: Manifest) -> ComplianceContext:
        ctx = cls(config=config, clock=clock)
        if config.screening.enabled:
            ctx.screening = ScreeningMonitor(config=config, manifest=manifest, clock=clock)
        ctx.kyc = KycMonitor(config=config, clock=clock, network=manifest.network)
        return ctx
