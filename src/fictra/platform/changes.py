"""Change management's view of the other domains (``changes.ports``), built here: open incidents on a
component (from the incidents' linked alerts), proposing an on-chain step as an emergency action (and its
status for the change-request document), the chain values a change's CEL verification reads, the network
whose series the review compares, and the maintenance window a scheduled change owns (opened for its slot
and scope, canceled when the change leaves "scheduled" unstarted)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.changes.assess import watchers
from fictra.changes.context import ChangesContext
from fictra.changes.ports import IncidentFact
from fictra.clock import Clock
from fictra.emergency import service as actions
from fictra.emergency.models import EmergencyAction
from fictra.emergency.reader import ChainReader
from fictra.incidents.models import Incident, IncidentAlert
from fictra.platform.change_windows import ChangeWindows
from fictra.platform.config_set import ConfigSet

_COMPONENT_LABELS = ("contract", "endpoint", "component", "name")


async def incidents_on(session: AsyncSession, components: Sequence[str]) -> list[IncidentFact]:
    """Open incidents whose linked alerts name one of ``components`` (contract, endpoint, component)."""
    wanted = set(components)
    rows = (
        await session.execute(
            select(Incident.id, Incident.severity, Incident.title, Alert.labels)
            .join(IncidentAlert, IncidentAlert.incident_id == Incident.id)
            .join(Alert, Alert.id == IncidentAlert.alert_id)
            .where(Incident.status == "open")
        )
    ).all()
    found: dict[int, IncidentFact] = {}
    for incident_id, severity, title, labels in rows:
        named = {str(v) for k, v in (labels or {}).items() if k in _COMPONENT_LABELS} & wanted
        if named:
            old = found.get(incident_id)
            both = tuple(sorted(named | set(old.components if old else ())))
            found[incident_id] = IncidentFact(incident_id, severity, title, both)
    return sorted(found.values(), key=lambda f: f.id)


def changes_context(*, config: ConfigSet, clock: Clock, pool: RpcPool, manifest: Manifest) -> ChangesContext:
    reader = ChainReader(pool, manifest)

    async def propose_action(
        session: AsyncSession, kind: str, params: dict[str, Any], reason: str, change_id: int, actor: object
    ) -> int:
        view = await actions.propose(
            session,
            kind=kind,
            params=params,
            actor=actor,
            clock=clock,
            reason=f"change #{change_id}: {reason}",
            rules=config.emergency.rules,
        )
        return view.id

    async def read_values() -> Mapping[str, Any]:
        values: dict[str, Any] = {}
        if "PaymentToken" in manifest.contracts:
            (fee,) = await reader.read("PaymentToken", "feeBps")
            values["pt_fee_bps"] = int(fee)
        return values

    async def action_status(session: AsyncSession, ids: Sequence[int]) -> Mapping[int, str]:
        rows = await session.execute(
            select(EmergencyAction.id, EmergencyAction.status).where(EmergencyAction.id.in_(list(ids)))
        )
        return {int(i): str(st) for i, st in rows.all()}

    windows = ChangeWindows(config.maintenance, clock)

    return ChangesContext(
        config=config.changes,
        clock=clock,
        incidents_on=incidents_on,
        propose_action=propose_action,
        read_values=read_values,
        watched_by=watchers(config.monitors, config.rules),
        network=config.network.name,
        action_status=action_status,
        open_window=windows.open,
        close_window=windows.close,
        done_window=windows.done,
    )


async def changes_line(session: AsyncSession) -> tuple[str, bool]:
    """The live view's line: changes by state in flight (awaiting authorization, scheduled, implementing,
    failed); attention when one is implementing or failed."""
    from sqlalchemy import func

    from fictra.changes.models import ChangeRequest

    shown = ("authorization", "scheduled", "implementing", "failed")
    rows = await session.execute(
        select(ChangeRequest.state, func.count())
        .where(ChangeRequest.state.in_(shown))
        .group_by(ChangeRequest.state)
    )
    counts = {str(state): int(n) for state, n in rows.all()}
    text = ", ".join(f"{counts[s]} {s}" for s in shown if counts.get(s)) or "none in flight"
    return text, bool(counts.get("implementing") or counts.get("failed"))
