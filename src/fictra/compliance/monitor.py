"""The screening monitor: every PT/FT transfer's sender and recipient against the lists in force, at the
head, in the follower's transaction — and transfers by participants whose KYC is not approved.

Per batch: (1) when the versions in force changed, the index is rebuilt and every known address and name
re-screened (:func:`~fictra.compliance.screening.rescreen`); (2) each transfer's addresses are looked up
(a dict hit, no query unless listed) and new addresses remembered; (3) open hits not alerted yet become
findings anchored on their block (or the batch's last block), closed and dispositioned hits clears.
An address hit suggests the PaymentToken blocklist (``blockAddress``, COMPLIANCE_ROLE): no emergency action
kind does it yet, so the suggestion is in the evidence and the operator proposes it (docs/compliance.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef, Clear, Finding, Severity
from fictra.chain.manifest import Manifest
from fictra.chain.types import BlockBatch, Reorg
from fictra.clock import Clock
from fictra.compliance.config import ComplianceConfig
from fictra.compliance.models import KnownAddress, KycRecord, ScreeningHit
from fictra.compliance.report_models import TransferRow
from fictra.compliance.screening import (
    OPEN,
    ScreeningIndex,
    active_version_ids,
    load_index,
    open_hit,
    rescreen,
)
from fictra.compliance.transfers import Transfer, transfers_of
from fictra.compliance.typologies import TypologyDetector, TypologyHit, exposure
from fictra.monitors.base import MonitorOutput
from fictra.monitors.state import Conditions

__all__ = ["AML", "KYC_TRANSFER", "SCREENING", "ScreeningMonitor"]

SCREENING = "compliance.screening"
KYC_TRANSFER = "compliance.kyc_transfer"
AML = "compliance.aml"
EXPOSURE = "compliance.exposure"


class ScreeningMonitor:
    """A block monitor (``fictra.monitors.base.Monitor``)."""

    name = SCREENING

    def __init__(self, *, config: ComplianceConfig, manifest: Manifest, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.network = manifest.network
        self.tokens = {
            manifest.contracts[t].address.lower(): t
            for t in config.screening.tokens
            if t in manifest.contracts
        }
        self.index: ScreeningIndex | None = None
        self.known: set[str] | None = None
        self.kyc_conditions = Conditions(monitor=KYC_TRANSFER, network=self.network)
        self.transfers_seen = 0
        self.looked_at: float | None = None  # block time of the last look at the lists, hits and KYC
        self.kyc_records: list[tuple[str, str, tuple[str, ...]]] = []  # (participant, status, addresses)
        self.next_block: int | None = None  # a batch that does not follow: the last transaction rolled back
        contracts = [c.address for c in manifest.contracts.values()]
        self.aml = TypologyDetector(config.aml, exempt=contracts) if config.aml.enabled else None
        self.aml_active: dict[tuple[str, str], int] = {}  # (typology, subject) -> block time of the hit

    async def refresh(self, session: AsyncSession) -> None:
        """Load the lists in force (and re-screen) when they changed since the last batch."""
        versions = await active_version_ids(session)
        if self.index is not None and versions == self.index.versions:
            return
        first = self.index is None
        self.index = await load_index(session)
        if self.known is None:
            self.known = set((await session.scalars(select(KnownAddress.address))).all())
            if self.aml is not None:
                self.aml.know(self.known)
        if not first or versions:
            await rescreen(session, index=self.index, threshold=self.config.names.threshold, clock=self.clock)

    async def _remember(self, session: AsyncSession, new: dict[str, int]) -> None:
        if not new:
            return
        now = self.clock.now()
        rows = [{"address": a, "first_block": b, "first_seen_at": now} for a, b in new.items()]
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        # executemany of one cached statement (a multi-VALUES statement is compiled again for every batch)
        await session.execute(insert(KnownAddress).on_conflict_do_nothing(), rows)

    async def _persist(self, session: AsyncSession, moved: dict[str, list[Transfer]]) -> None:
        """A compact row per transfer, for the periodic transaction reports (``compliance.reports``)."""
        rows = [
            {
                "block_number": t.block,
                "log_index": t.log_index,
                "tx_hash": t.tx_hash,
                "token": t.token,
                "sender": t.sender,
                "recipient": t.recipient,
                "value": str(t.value),
                "at": datetime.fromtimestamp(t.timestamp, tz=UTC),
            }
            for ts in moved.values()
            for t in ts
        ]
        if rows:
            await session.execute(sa_insert(TransferRow), rows)

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        out = MonitorOutput()
        if not batch.blocks:
            return out
        if self.next_block is not None and batch.blocks[0].number != self.next_block:
            self.index, self.known = None, None  # reload what the rolled-back transaction may have lost
        self.next_block = batch.blocks[-1].number + 1
        now = float(batch.blocks[-1].timestamp)
        look = (
            self.index is None
            or self.looked_at is None
            or now - self.looked_at >= self.config.screening.reload_every.total_seconds()
        )
        if look:
            self.looked_at = now
            await self.refresh(session)
            rows = await session.execute(
                select(KycRecord.participant, KycRecord.status, KycRecord.addresses).where(
                    KycRecord.role == "participant"
                )
            )
            self.kyc_records = [(p, s, tuple(a)) for p, s, a in rows.all()]
        index, known = self.index, self.known
        if index is None or known is None:
            return out
        new: dict[str, int] = {}
        listed_hits: list[tuple[Transfer, str, str]] = []
        moved: dict[str, list[Transfer]] = {}
        for block in batch.blocks:
            for t in transfers_of(block, self.tokens):
                self.transfers_seen += 1
                for address, direction in ((t.sender, "from"), (t.recipient, "to")):
                    if address not in known:
                        known.add(address)
                        new.setdefault(address, t.block)
                    if address in index.addresses:
                        listed_hits.append((t, address, direction))
                moved.setdefault(t.sender, []).append(t)
        await self._remember(session, new)
        await self._persist(session, moved)
        for t, address, direction in listed_hits:
            for listed in index.addresses[address]:
                await open_hit(
                    session,
                    kind="address",
                    subject=address,
                    listed=listed,
                    score=1.0,
                    clock=self.clock,
                    block=(t.block, t.block_hash),
                    tx_hash=t.tx_hash,
                    evidence={
                        "source": "transfer",
                        "token": t.token,
                        "direction": direction,
                        "from": t.sender,
                        "to": t.recipient,
                        "value": str(t.value),
                        "tx": t.tx_hash,
                        "entry_name": listed.name,
                    },
                )
        if self.aml is not None:
            self._typologies([t for ts in moved.values() for t in ts], batch, out)
            self._exposure({address for _, address, _ in listed_hits}, batch, out)
        await self._kyc(session, batch, moved, out)
        if look or listed_hits:
            await self._emit(session, batch, out)
        return out

    def _typologies(self, transfers: list[Transfer], batch: BlockBatch, out: MonitorOutput) -> None:
        if self.aml is None:
            return
        transfers.sort(key=lambda t: (t.block, t.log_index))
        for hit in self.aml.observe(transfers):
            self.aml_active[(hit.typology, hit.subject)] = hit.transfer.timestamp
            out.findings.append(self._aml_finding(hit))
        last = batch.blocks[-1]
        horizon = last.timestamp - self.config.aml.window.total_seconds()
        for key, when in list(self.aml_active.items()):
            if when <= horizon:  # the pattern left the window
                del self.aml_active[key]
                exposed = key[0] == "exposure"
                labels = {"subject": key[1]} if exposed else {"typology": key[0], "subject": key[1]}
                out.clears.append(
                    Clear(
                        monitor=EXPOSURE if exposed else AML,
                        labels=labels,
                        network=self.network,
                        block=BlockRef(last.number, last.hash),
                    )
                )

    def _exposure(self, sources: set[str], batch: BlockBatch, out: MonitorOutput) -> None:
        """Counterparties within ``exposure_hops`` of a listed address that moved in this batch."""
        cfg, index = self.config.screening, self.index
        if self.aml is None or index is None or cfg.exposure_hops <= 0:
            return
        last = batch.blocks[-1]
        for source in sorted(sources):
            listed = index.addresses.get(source, [])
            for subject, (score, hop) in exposure(
                self.aml.graph, source, hops=cfg.exposure_hops, decay=cfg.exposure_decay
            ).items():
                if subject in index.addresses or subject in self.aml.exempt:
                    continue  # listed itself (a direct hit) or a contract
                self.aml_active[("exposure", subject)] = last.timestamp
                out.findings.append(
                    Finding(
                        monitor=EXPOSURE,
                        severity=Severity(cfg.exposure_severity),
                        summary=f"Indirect exposure: {subject} is {hop} hop(s) from listed {source} "
                        f"(score {score:g})",
                        labels={"subject": subject},
                        network=self.network,
                        block=BlockRef(last.number, last.hash),
                        evidence={
                            "hop": hop,
                            "score": score,
                            "source": source,
                            "entries": [f"{x.list_name}:{x.key}" for x in listed],
                        },
                    )
                )

    def _aml_finding(self, hit: TypologyHit) -> Finding:
        cfg, t = self.config.aml, hit.transfer
        severity = cfg.alert_severity if hit.risk >= cfg.alert_score else cfg.severity
        return Finding(
            monitor=AML,
            severity=Severity(severity),
            summary=f"AML typology {hit.typology}: {hit.subject} (risk score {hit.risk:g})",
            labels={"typology": hit.typology, "subject": hit.subject},
            network=self.network,
            block=BlockRef(t.block, t.block_hash),
            tx_hashes=(t.tx_hash,),
            evidence={
                **hit.evidence,
                "score": hit.score,
                "risk": hit.risk,
                "token": t.token,
                "from": t.sender,
                "to": t.recipient,
                "value": str(t.value),
            },
        )

    async def _kyc(
        self, session: AsyncSession, batch: BlockBatch, moved: dict[str, list[Transfer]], out: MonitorOutput
    ) -> None:
        await self.kyc_conditions.resume(session)
        last = batch.blocks[-1]
        for participant, status, addresses in self.kyc_records:
            labels = {"participant": participant}
            if status == "approved":
                self.kyc_conditions.release(labels, out, block=BlockRef(last.number, last.hash))
                continue
            sent = [t for a in addresses for t in moved.get(a, ())]
            if not sent:
                continue
            t = sent[0]
            self.kyc_conditions.hold(
                Finding(
                    monitor=KYC_TRANSFER,
                    severity=Severity(self.config.kyc.transfer_severity),
                    summary=f"Transfer by participant {participant} whose KYC is {status}",
                    labels=labels,
                    network=self.network,
                    block=BlockRef(t.block, t.block_hash),
                    tx_hashes=tuple(dict.fromkeys(x.tx_hash for x in sent))[:20],
                    evidence={
                        "kyc_status": status,
                        "transfers": len(sent),
                        "token": t.token,
                        "from": t.sender,
                        "to": t.recipient,
                        "value": str(t.value),
                    },
                ),
                out,
            )

    async def _emit(self, session: AsyncSession, batch: BlockBatch, out: MonitorOutput) -> None:
        last = batch.blocks[-1]
        index = self.index
        pending = await session.scalars(
            select(ScreeningHit).where(
                ((ScreeningHit.state == OPEN) & (ScreeningHit.alerted.is_(False)))
                | (
                    (ScreeningHit.state != OPEN)
                    & ScreeningHit.alerted.is_(True)
                    & ScreeningHit.cleared.is_(False)
                )
            )
        )
        for hit in pending.all():
            labels = {"kind": hit.kind, "subject": hit.subject, "list": hit.list_name, "entry": hit.entry_key}
            if hit.state != OPEN:
                hit.cleared = True
                out.clears.append(
                    Clear(
                        monitor=SCREENING,
                        labels=labels,
                        network=self.network,
                        block=BlockRef(last.number, last.hash),
                    )
                )
                continue
            hit.alerted = True
            version = index.labels.get(hit.version_id, f"version id {hit.version_id}") if index else ""
            address = hit.kind == "address"
            block = BlockRef(hit.block_number, hit.block_hash or "") if hit.block_number else None
            evidence: dict[str, object] = {
                **hit.evidence,
                "hit": hit.id,
                "list_version": version,
                "entry": hit.entry_key,
                "score": hit.score,
            }
            if address:
                evidence["suggested_action"] = {
                    "action": self.config.screening.suggested_action,
                    "address": hit.subject,
                    "how": "no emergency action kind blocks an address yet: propose blockAddress through "
                    "the PaymentToken COMPLIANCE_ROLE holder under the usual approvals",
                }
            out.findings.append(
                Finding(
                    monitor=SCREENING,
                    severity=Severity(
                        self.config.screening.severity if address else self.config.names.severity
                    ),
                    summary=(
                        f"Screening hit: {hit.kind} {hit.subject} matches '{hit.entry_name}' ({version})"
                        + ("" if address else f", score {hit.score:.2f}")
                    ),
                    labels=labels,
                    network=self.network,
                    block=block or BlockRef(last.number, last.hash),
                    tx_hashes=(hit.tx_hash,) if hit.tx_hash else (),
                    evidence=evidence,
                )
            )

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        """Hits raised on removed blocks go (their alerts are retracted by the pipeline); the transfer, if
        it is mined again, raises them again."""
        removed = await session.scalars(
            select(ScreeningHit).where(ScreeningHit.block_number > reorg.common_ancestor)
        )
        for hit in removed.all():
            await session.delete(hit)
        await session.execute(delete(TransferRow).where(TransferRow.block_number > reorg.common_ancestor))
        return MonitorOutput()
