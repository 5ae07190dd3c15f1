"""The inbound writer: concurrent inbound requests share one transaction (group commit).

Senders post concurrently — several Alertmanagers, and an HA pair sends every alert twice. Each request
hands its findings to :meth:`InboundWriter.submit`; whoever holds the lock applies everything queued so
far in one transaction and answers every request in it. That makes one writer per process (two
requests never both insert the same new fingerprint) and amortizes the transaction over many
requests. Order is kept: a request that fires what an earlier one in the batch clears (or the reverse)
starts a new ``apply_findings`` call. A unique-key race with another process rolls back and runs the
batch again (it then finds the other's alert and deduplicates into it; SQLite reports the same race as
"database is locked" for a stale snapshot).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.config import AlertPolicy
from fictra.alerting.findings import Clear, Finding
from fictra.alerting.service import AlertChange, apply_findings
from fictra.clock import Clock
from fictra.errors import ConflictError
from fictra.notify.inbound import InboundResult, OnChanges

_Key = tuple[str, str]


def _keys(items: Sequence[Finding | Clear]) -> set[_Key]:
    return {(x.network, x.fingerprint) for x in items}


@dataclass(slots=True)
class _Request:
    findings: list[Finding]
    clears: list[Clear]
    future: asyncio.Future[InboundResult]
    finding_keys: set[_Key] = field(default_factory=set)
    clear_keys: set[_Key] = field(default_factory=set)
    fired: set[int] = field(default_factory=set)
    resolved: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.finding_keys = _keys(self.findings)
        self.clear_keys = _keys(self.clears)


def _segments(requests: list[_Request]) -> list[list[_Request]]:
    """Consecutive runs of requests that can be applied in one call without reordering a fire/clear."""
    out: list[list[_Request]] = []
    fired: set[_Key] = set()
    cleared: set[_Key] = set()
    for req in requests:
        if not out or req.finding_keys & cleared or req.clear_keys & fired:
            out.append([])
            fired, cleared = set(), set()
        out[-1].append(req)
        fired |= req.finding_keys
        cleared |= req.clear_keys
    return out


class InboundWriter:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        policy: AlertPolicy | None = None,
        on_changes: OnChanges | None = None,
        attempts: int = 3,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.policy = policy
        self.on_changes = on_changes
        self.attempts = attempts
        self._lock = asyncio.Lock()
        self._queue: list[_Request] = []
        self.transactions = 0  # batches committed (the bench reports requests per transaction)
        self.retries = 0  # batches run again after a race with another writer

    async def submit(self, *, findings: list[Finding], clears: list[Clear]) -> InboundResult:
        """Apply ``findings``/``clears`` (committed when this returns) and report what changed."""
        request = _Request(findings, clears, asyncio.get_running_loop().create_future())
        self._queue.append(request)
        async with self._lock:
            if not request.future.done():
                batch, self._queue = self._queue, []
                await self._run(batch)
        return request.future.result()

    async def _run(self, batch: list[_Request]) -> None:
        try:
            for attempt in range(1, self.attempts + 1):
                for req in batch:
                    req.fired.clear()
                    req.resolved.clear()
                try:
                    async with self.sessions() as session, session.begin():
                        for segment in _segments(batch):
                            await self._apply(session, segment)
                    break
                except (IntegrityError, OperationalError):  # a race with another process's writer
                    self.retries += 1
                    if attempt == self.attempts:
                        raise ConflictError(
                            f"Inbound alerts collided with concurrent writes {attempt} times in a row; "
                            "send them again."
                        ) from None
            self.transactions += 1
        except BaseException as exc:
            for req in batch:
                if not req.future.done():
                    req.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for req in batch:
            n_findings = len(req.findings)
            req.future.set_result(
                InboundResult(
                    accepted=n_findings + len(req.clears),
                    fired=len(req.fired),
                    updated=max(0, n_findings - len(req.fired)),
                    resolved=len(req.resolved),
                    alert_ids=sorted(req.fired | req.resolved),
                )
            )

    async def _apply(self, session: AsyncSession, segment: list[_Request]) -> None:
        findings = [f for req in segment for f in req.findings]
        clears = [c for req in segment for c in req.clears]
        result = await apply_findings(
            session, findings, clears, head=None, clock=self.clock, policy=self.policy
        )
        if result.changes and self.on_changes is not None:
            await self.on_changes(result.changes, session)
        _attribute(segment, result.changes)


def _attribute(segment: list[_Request], changes: list[AlertChange]) -> None:
    """Each change goes to the first request of the segment that carried its fingerprint."""
    for change in changes:
        key = (change.network, change.fingerprint)
        kind = change.kind.value
        if kind not in ("fired", "refired", "resolved"):
            continue
        for req in segment:
            if kind == "resolved" and key in req.clear_keys:
                req.resolved.add(change.alert_id)
                break
            if kind != "resolved" and key in req.finding_keys:
                req.fired.add(change.alert_id)
                break
