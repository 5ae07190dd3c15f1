"""The system recovery procedure, run from an incident: component restart, data verification, service
restoration, performance validation — each step's evidence on the incident's timeline.

It lives in platform/ because it ties the running platform (supervisor, follower, pool, metrics) to the
incidents domain: the steps themselves write nowhere; :func:`run_recovery` appends each step's result
(kind ``recovery``) to the incident's timeline and the audit log in one transaction per step.

    restart       the named supervisor components stop and start again (as the emergency ``restart`` kind)
    data          the last N processed blocks' hashes (chain_block_hash) equal the chain's; no fingerprint
                  firing twice in the alert store; the audit hash chain, seals and checkpoints verify
    restoration   every component running, every RPC endpoint healthy, the follower at the head
    performance   follower lag and mean block-to-alert latency (since the procedure began) within bounds
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert, AlertStatus
from fictra.audit.canonical import jsonable
from fictra.audit.seal import SealKey
from fictra.audit.service import record
from fictra.audit.signing import AuditVerifier, load_verifier
from fictra.audit.verify import verify_log
from fictra.chain.models import ChainBlockHash, ChainCheckpoint
from fictra.errors import ConfigError, FictraError
from fictra.incidents.communications import send_update
from fictra.incidents.events import log_event
from fictra.incidents.models import Incident
from fictra.incidents.records import load_incident

if TYPE_CHECKING:
    from fictra.platform.assemble import Platform

__all__ = ["Bounds", "RecoveryReport", "RecoveryStep", "run_recovery"]


RECOVERY_GROUPS = ("technical_team", "business_team")  # told at each recovery step (status template)


@dataclass(frozen=True)
class Bounds:
    """What the recovery checks and how long it waits for the platform to come back."""

    components: tuple[str, ...] = ("follower",)
    blocks: int = 20  # processed blocks whose hashes are re-checked against the chain
    max_lag_blocks: int = 5
    max_block_to_alert_s: float = 2.5
    wait_s: float = 30.0


@dataclass(frozen=True)
class RecoveryStep:
    name: str
    ok: bool
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class RecoveryReport:
    incident_id: int
    steps: list[RecoveryStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)


def _latency(platform: Platform) -> tuple[float, float]:
    """(sum, count) of the block-to-alert histogram of the platform's network."""
    total = count = 0.0
    for metric in platform.metrics.registry.collect():
        if metric.name != "fictra_block_to_alert_seconds":
            continue
        for sample in metric.samples:
            if sample.labels.get("network") not in (None, platform.network):
                continue
            if sample.name.endswith("_sum"):
                total += sample.value
            elif sample.name.endswith("_count"):
                count += sample.value
    return total, count


async def _until(check: Callable[[], Awaitable[bool]], *, seconds: float) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def restart(platform: Platform, *, bounds: Bounds) -> RecoveryStep:
    """Restart each named component through the supervisor and wait until it runs again."""
    sup, rows = platform.supervisor, []
    for name in bounds.components:
        before = sup.state(name).restarts
        sup.restart(name)

        async def back(name: str = name, before: int = before) -> bool:
            state = sup.state(name)
            return state.restarts > before and state.running

        ok = await _until(back, seconds=bounds.wait_s)
        state = sup.state(name)
        rows.append(
            {"component": name, "restarted": ok, "restarts": state.restarts, "running": state.running}
        )
    bad = [str(r["component"]) for r in rows if not r["restarted"]]
    summary = f"restarted {', '.join(bounds.components)}" if not bad else f"not restarted: {', '.join(bad)}"
    return RecoveryStep("restart", not bad, summary, {"components": rows})


async def verify_data(platform: Platform, *, bounds: Bounds) -> RecoveryStep:
    """The last ``bounds.blocks`` stored block hashes against the chain, the alert store (one firing alert
    per fingerprint), the audit log (hash chain, seals, signed checkpoints)."""
    net = platform.network
    async with platform.sessions() as session:
        stored = (
            await session.execute(
                select(ChainBlockHash.number, ChainBlockHash.hash)
                .where(ChainBlockHash.network == net)
                .order_by(ChainBlockHash.number.desc())
                .limit(bounds.blocks)
            )
        ).all()
        checkpoint = await session.get(ChainCheckpoint, net)
        top = checkpoint.block_number if checkpoint is not None else -1
        duplicated = (
            await session.execute(
                select(Alert.fingerprint)
                .where(Alert.status == AlertStatus.FIRING.value)
                .group_by(Alert.network, Alert.fingerprint)
                .having(func.count(Alert.id) > 1)
            )
        ).all()
        alerts = (await session.execute(select(func.count(Alert.id)))).scalar_one()
        audit = await _verify_audit(platform, session)
    blocks = (
        await platform.pool.batch([("eth_getBlockByNumber", [hex(n), False]) for n, _ in stored])
        if stored
        else []
    )
    mismatched = [
        {"number": n, "stored": h, "chain": (b or {}).get("hash")}
        for (n, h), b in zip(stored, blocks, strict=True)
        if not isinstance(b, dict) or str(b.get("hash", "")).lower() != h.lower()
    ]
    ok = bool(stored) and not mismatched and not duplicated and audit.ok
    evidence = {
        "blocks_checked": [n for n, _ in stored],
        "mismatched": mismatched,
        "checkpoint": top,
        "alerts": alerts,
        "duplicate_firing": [r.fingerprint for r in duplicated],
        "audit": {"ok": audit.ok, "entries": audit.entries, "checkpoints": audit.checkpoints,
                  "summary": audit.summary()},
    }  # fmt: skip
    summary = (
        f"{len(stored) - len(mismatched)}/{len(stored)} block hashes match the chain (checkpoint {top}); "
        f"{alerts} alerts, {len(duplicated)} fingerprints firing twice; audit: {audit.summary()}"
    )
    return RecoveryStep("data", ok, summary, evidence)


async def _verify_audit(platform: Platform, session: AsyncSession) -> Any:
    verifier: AuditVerifier | None = None
    seal: SealKey | None = None
    if platform.audit_signer is not None:
        verifier, seal = platform.audit_signer.verifier, SealKey.of(platform.audit_signer)
    else:
        try:
            verifier = load_verifier(platform.settings.data_dir)
        except ConfigError:
            verifier = None  # no key yet: signatures are not checked (there is no checkpoint either)
    return await verify_log(session, verifier=verifier, seal=seal)


async def _caught_up(platform: Platform, lag: int) -> bool:
    status = platform.follower.status()
    return status.last_block is not None and status.lag <= lag


async def restore_service(platform: Platform, *, bounds: Bounds) -> RecoveryStep:
    """Every supervised component running, every endpoint healthy, the follower back at the head."""
    await _until(lambda: _caught_up(platform, bounds.max_lag_blocks), seconds=bounds.wait_s)
    components = {n: platform.supervisor.state(n).running for n in platform.supervisor.names}
    endpoints = {h.name: str(h.state) for h in platform.pool.health()}
    status = platform.follower.status()
    down = [n for n, up in components.items() if not up]
    unhealthy = [n for n, s in endpoints.items() if s != "healthy"]
    ok = not down and not unhealthy and status.lag <= bounds.max_lag_blocks
    evidence = {"components": components, "endpoints": endpoints, "last_block": status.last_block,
                "head": status.head, "lag": status.lag}  # fmt: skip
    summary = (
        f"{len(components) - len(down)}/{len(components)} components running, "
        f"{len(endpoints) - len(unhealthy)}/{len(endpoints)} endpoints healthy, follower at "
        f"{status.last_block} of {status.head}"
    )
    return RecoveryStep("restoration", ok, summary, evidence)


def validate_performance(
    platform: Platform, *, bounds: Bounds, baseline: tuple[float, float]
) -> RecoveryStep:
    """Follower lag and the mean block-to-alert latency of the blocks processed since ``baseline``."""
    status = platform.follower.status()
    total, count = _latency(platform)
    blocks = count - baseline[1]
    mean = (total - baseline[0]) / blocks if blocks > 0 else None
    ok = status.lag <= bounds.max_lag_blocks and mean is not None and mean <= bounds.max_block_to_alert_s
    evidence = {
        "lag": status.lag,
        "max_lag_blocks": bounds.max_lag_blocks,
        "blocks_measured": int(blocks),
        "mean_block_to_alert_s": mean,
        "max_block_to_alert_s": bounds.max_block_to_alert_s,
    }
    latency = "no block processed since the restart" if mean is None else f"{mean * 1000:.1f} ms"
    summary = f"lag {status.lag} blocks (max {bounds.max_lag_blocks}); block-to-alert {latency}"
    return RecoveryStep("performance", ok, summary, evidence)


async def _append(platform: Platform, *, incident_id: int, actor: object, step: RecoveryStep) -> None:
    async with platform.sessions.begin() as session:
        evidence = jsonable({"ok": step.ok, "summary": step.summary, "data": step.evidence})
        text = f"Recovery · {step.name}: {'passed' if step.ok else 'FAILED'} — {step.summary}"[:2000]
        await log_event(session, incident_id=incident_id, kind="recovery", actor=actor, text=text,
                        clock=platform.clock, ref=f"recovery:{step.name}", details=evidence)  # fmt: skip
        await record(session, actor=actor, action="incident.recovery.step", target=f"incident:{incident_id}",
                     after={"step": step.name, "ok": step.ok}, clock=platform.clock)  # fmt: skip
        # the stakeholders are told at each step, with the incidents' own status-update template
        incidents = platform.incidents
        row = await session.get(Incident, incident_id)
        if row is None or row.status != "open":
            return
        await send_update(
            session,
            incident_id=incident_id,
            groups=RECOVERY_GROUPS,
            template="status",
            actor=actor,
            clock=platform.clock,
            extra={"message": text},
            config=incidents.config if incidents is not None else None,
            console_url=platform.link_base,
        )


async def run_recovery(
    platform: Platform,
    *,
    incident_id: int,
    actor: object,
    bounds: Bounds | None = None,
    steps: Sequence[str] = ("restart", "data", "restoration", "performance"),
) -> RecoveryReport:
    """Run the recovery steps in order on the running ``platform`` for ``incident_id``; each result goes
    onto the incident's timeline as it completes. Raises NotFoundError for an unknown incident."""
    bounds = bounds or Bounds()
    async with platform.sessions() as session:
        await load_incident(session, incident_id)
    report = RecoveryReport(incident_id)
    baseline = _latency(platform)
    for name in steps:
        try:
            if name == "restart":
                step = await restart(platform, bounds=bounds)
            elif name == "data":
                step = await verify_data(platform, bounds=bounds)
            elif name == "restoration":
                step = await restore_service(platform, bounds=bounds)
            elif name == "performance":
                step = validate_performance(platform, bounds=bounds, baseline=baseline)
            else:
                step = RecoveryStep(name, False, f"unknown recovery step '{name}'")
        except FictraError as exc:
            step = RecoveryStep(
                name, False, f"could not run: {exc.user_message}", {"error": exc.user_message}
            )
        report.steps.append(step)
        await _append(platform, incident_id=incident_id, actor=actor, step=step)
    return report
