"""FT issuance end to end on a real devnet with the platform running (shipped config: tokens.yaml registry,
the issuer's keystore written as `fictra devnet up` does): the registry reconciles with the chain; a request
above the allocation left is refused before anything is proposed; the ft_issue action is refused at
execution while an approval is missing; approved by the operations manager, the compliance officer and the
legal representative, dry-run, signed with the issuer key, confirmed and verified (balance, supply and
issued moved by exactly the amount); the registry still reconciles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from e2e.harness import Running, start
from fictra.auth.actor import Actor
from fictra.auth.permissions import default_roles
from fictra.emergency import queries, service
from fictra.errors import ConflictError
from fictra.platform.tokens import allocation_report, request_issuance
from fictra.tokens.issuance import IssuanceRequest
from fictra.tokens.monitor import AllocationMonitor

pytestmark = [pytest.mark.e2e]
E18 = 10**18
DOC = "5f" * 32


def person(name: str, role: str) -> Actor:
    return Actor(None, name, (role,), default_roles().permissions_of([role]), "session")


OPS, COMPLIANCE, LEGAL = (
    person("olga", "operations_manager"),
    person("carl", "compliance_officer"),
    person("lena", "legal"),
)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    r = await start(tmp_path, emergency=True)
    try:
        yield r
    finally:
        await r.close()


async def _reconciled(running: Running) -> list[dict[str, object]]:
    p = running.platform
    report = await allocation_report(p.config.tokens, manifest=p.manifest, pool=p.pool)
    [monitor] = [m for m in p.polled_monitors if isinstance(m, AllocationMonitor)]
    async with p.sessions() as session:
        output = await monitor.poll(session)
    assert output.findings == [], [f.summary for f in output.findings]
    return report


async def test_issuance_refused_then_approved_executed_verified_and_reconciled(running: Running) -> None:
    p = running.platform
    assert p.emergency is not None
    before = {r["sovereign"]: r for r in await _reconciled(running)}
    assert all(r["ok"] for r in before.values()) and before["SOVEREIGN-1"]["remaining_ft"] == 9_000_000

    async def issue(amount_ft: int) -> object:
        async with p.sessions.begin() as session:
            return await request_issuance(
                session, config=p.config.tokens, emergency=p.config.emergency, manifest=p.manifest,
                pool=p.pool, request=IssuanceRequest("SOVEREIGN-1", amount_ft, "Q4 allocation", (DOC,)),
                actor=OPS, clock=p.clock,
            )  # fmt: skip

    with pytest.raises(ConflictError, match=r"9,500,000 FT exceeds the allocation left on chain \(9,000,000"):
        await issue(9_500_000)
    async with p.sessions() as session:
        assert await queries.list_actions(session) == []  # nothing was proposed

    view = await issue(500_000)
    action_id = view.id  # type: ignore[attr-defined]
    for approver in (COMPLIANCE,):
        async with p.sessions.begin() as session:
            view = await service.approve(
                session,
                action_id=action_id,
                actor=approver,
                clock=p.clock,
                params_hash=view.params_hash,  # type: ignore[attr-defined]
            )
    with pytest.raises(ConflictError, match="legal"):
        await p.emergency.execute(action_id, OPS)
    async with p.sessions.begin() as session:
        view = await service.approve(
            session,
            action_id=action_id,
            actor=LEGAL,
            clock=p.clock,
            params_hash=view.params_hash,  # type: ignore[attr-defined]
        )
    dry = await p.emergency.dry_run(action_id)
    assert dry.ok, dry.summary

    task = asyncio.create_task(p.emergency.execute(action_id, OPS))
    for _ in range(20):
        done, _ = await asyncio.wait({task}, timeout=0.3)
        if done:
            break
        await running.mine()
    done_view = await asyncio.wait_for(task, timeout=10)
    assert done_view.status == "verified", done_view.error
    assert done_view.verification is not None
    assert int(done_view.verification["issued"]) == 1_500_000 * E18
    assert [t.signer for t in done_view.txs] == [p.emergency.signer_address("issuer")]

    after = {r["sovereign"]: r for r in await _reconciled(running)}
    assert after["SOVEREIGN-1"]["balance_ft"] == before["SOVEREIGN-1"]["balance_ft"] + 500_000  # type: ignore[operator]
    assert after["SOVEREIGN-1"]["remaining_ft"] == 8_500_000 and after["SOVEREIGN-1"]["ok"]
