"""Health at a glance per area of the system, from the firing alerts and the live platform status.

An area is red when one of its monitors has a firing P0/P1 alert, amber for a firing P2/P3 (or a
degraded platform signal: an endpoint not healthy, the follower lagging), green otherwise. Which area
a monitor belongs to follows its family (``type`` in config/monitors); CEL event rules watch the
FICTRA contracts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fictra.alerting.schemas import AlertView

AREAS: tuple[str, ...] = ("nodes", "transactions", "gas", "contracts", "oracles")
AREA_TITLES = {
    "nodes": "Nodes",
    "transactions": "Transactions",
    "gas": "Gas",
    "contracts": "Contracts",
    "oracles": "Oracles",
}
AREA_BY_TYPE = {
    "node_health": "nodes",
    "transactions": "transactions",
    "anomaly": "transactions",
    "gas": "gas",
    "contract_status": "contracts",
    "oracle": "oracles",
    "event_rule": "contracts",
}
LAG_AMBER = 5  # blocks behind the head before the follower counts as lagging
RANK = {"green": 0, "amber": 1, "red": 2}


@dataclass
class AreaHealth:
    area: str
    title: str
    state: str = "green"  # green | amber | red
    firing: dict[str, int] = field(default_factory=dict)  # severity -> count
    reasons: list[str] = field(default_factory=list)

    def worsen(self, state: str, reason: str) -> None:
        if RANK[state] > RANK[self.state]:
            self.state = state
        self.reasons.append(reason)


def monitor_areas(monitors: Iterable[Any], rules: Iterable[Any] = ()) -> dict[str, str]:
    """Monitor name -> area, from the loaded config's monitors (by ``type``) and rules (contracts)."""
    areas = {m.name: AREA_BY_TYPE.get(str(getattr(m, "type", "")), "contracts") for m in monitors}
    areas.update({r.name: "contracts" for r in rules})
    return areas


def area_of(monitor: str, areas: Mapping[str, str]) -> str | None:
    """The area of ``monitor``: from the config, else guessed from its name (None when unknown)."""
    if monitor in areas:
        return areas[monitor]
    lowered = monitor.lower()
    for key, area in (("rpc", "nodes"), ("node", "nodes"), ("oracle", "oracles"), ("gas", "gas")):
        if key in lowered:
            return area
    if "tx" in lowered or "transaction" in lowered:
        return "transactions"
    return None


def area_health(
    *, firing: Iterable[AlertView], areas: Mapping[str, str], status: Mapping[str, Any]
) -> list[AreaHealth]:
    """One :class:`AreaHealth` per area, in :data:`AREAS` order."""
    result = {a: AreaHealth(area=a, title=AREA_TITLES[a]) for a in AREAS}
    for alert in firing:
        area = area_of(alert.monitor, areas)
        if area is None or alert.status != "firing" or alert.confirmation == "retracted":
            continue
        health = result[area]
        health.firing[alert.severity] = health.firing.get(alert.severity, 0) + 1
        state = "red" if alert.severity in ("P0", "P1") else "amber"
        health.worsen(state, f"{alert.severity} {alert.summary}")
    endpoints = list(status.get("endpoints") or [])
    if endpoints:
        unhealthy = [e for e in endpoints if str(e.get("state")) != "healthy"]
        if len(unhealthy) == len(endpoints):
            result["nodes"].worsen("red", "no healthy RPC endpoint")
        elif unhealthy:
            result["nodes"].worsen("amber", f"{len(unhealthy)} of {len(endpoints)} endpoints not healthy")
    elif status:
        result["nodes"].worsen("amber", "no endpoint status yet")
    lag = status.get("lag")
    if isinstance(lag, int) and lag > LAG_AMBER:
        result["transactions"].worsen("amber", f"follower {lag} blocks behind the head")
    return [result[a] for a in AREAS]
