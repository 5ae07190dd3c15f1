"""set_pt_fee on a real devnet: PaymentToken's fee set through the Timelock (the deploy grants it
FEE_MANAGER_ROLE), proposed, approved by the recovery rule, dry-run (the FeeChanged event traced),
scheduled, executed after the delay and verified by reading feeBps() back; bad parameters refused."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from emergency.people import LEAD, OPS
from emergency.rig import Rig
from fictra.emergency.kinds.registry import KINDS
from fictra.errors import ConflictError, UsageError


async def fee(rig: Rig) -> int:
    return int(await rig.dev.call("PaymentToken", "feeBps"))


async def test_the_timelock_holds_the_fee_manager_role(rig: Rig) -> None:
    role = keccak(text="FEE_MANAGER_ROLE")
    timelock = rig.manifest.contracts["Timelock"].address
    assert await rig.dev.call("PaymentToken", "hasRole", role, timelock)


async def test_set_pt_fee_goes_through_the_timelock_and_reads_the_fee_back(rig: Rig) -> None:
    assert "set_pt_fee" in KINDS
    before = await fee(rig)
    target = 25 if before != 25 else 26
    view = await rig.propose("set_pt_fee", LEAD, params={"fee_bps": target}, reason="change 7")
    assert view.status == "proposed"
    with pytest.raises(ConflictError, match=r"not approved.*an approval from an operations_manager"):
        await rig.runner.execute(view.id, LEAD)
    view = await rig.approve(view, OPS)
    dry = await rig.runner.dry_run(view.id)
    assert dry.ok, dry.summary
    changed = [e for e in dry.steps[0]["effect"]["events"] if e["event"] == "FeeChanged"]
    assert changed and changed[0]["args"]["newFeeBps"] == target
    assert await fee(rig) == before  # the simulation changed nothing

    scheduled = await rig.runner.execute(view.id, OPS)
    assert scheduled.status == "scheduled" and scheduled.scheduled_ready_at is not None, scheduled.error
    assert await fee(rig) == before  # nothing changes before the delay
    assert (await rig.runner.advance(view.id)).status == "scheduled"
    await rig.dev.increase_time(61)
    done = await rig.runner.advance(view.id)
    assert done.status == "verified", done.error
    assert await fee(rig) == target
    assert done.verification and done.verification["fee_bps"] == target
    assert [t.label for t in done.txs] == [
        f"Timelock.schedule(PaymentToken.setFee({target}), delay 60s)",
        f"Timelock.execute(PaymentToken.setFee({target}))",
    ]
    assert all(t.signer == rig.runner.signer_address("governance") for t in done.txs)


async def test_a_fee_above_the_maximum_is_refused_before_anything_is_written(rig: Rig) -> None:
    with pytest.raises(UsageError, match="fee_bps"):
        await rig.propose("set_pt_fee", LEAD, params={"fee_bps": 101})
    with pytest.raises(UsageError, match="fee_bps"):
        await rig.propose("set_pt_fee", LEAD, params={})
