"""Faults the runbooks must handle, applied to the running devnet (``fictra devnet scenario NAME [--undo]``).

:data:`SCENARIOS` maps each name to its :class:`Scenario`; :func:`run_scenario` applies or undoes one.
"""

from __future__ import annotations

from fictra.devnet.scenarios.base import Scenario, ScenarioContext, ScenarioOptions
from fictra.devnet.scenarios.governance import FeeChange, Pause, TradingHalt, UnauthorizedRoleGrant
from fictra.devnet.scenarios.node import FailedTxBurst, GasSpike, NodeDown, Reorg
from fictra.devnet.scenarios.oracle import OracleDeviation, OracleJump, OracleStall
from fictra.devnet.scenarios.proposals import GovernancePass, GovernanceProposal
from fictra.devnet.scenarios.store import ScenarioStore
from fictra.devnet.scenarios.tokens import LargeTransfer, ReserveDrain
from fictra.errors import ScenarioError

_ALL: list[type[Scenario]] = [
    OracleStall,
    OracleDeviation,
    OracleJump,
    NodeDown,
    GasSpike,
    LargeTransfer,
    UnauthorizedRoleGrant,
    Pause,
    TradingHalt,
    ReserveDrain,
    FailedTxBurst,
    FeeChange,
    Reorg,
    GovernanceProposal,
    GovernancePass,
]
SCENARIOS: dict[str, type[Scenario]] = {cls.name: cls for cls in _ALL}

__all__ = ["SCENARIOS", "ScenarioContext", "ScenarioOptions", "ScenarioStore", "get_scenario", "run_scenario"]


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]()
    except KeyError:
        raise ScenarioError(f"Unknown scenario '{name}'. Known scenarios: {', '.join(SCENARIOS)}.") from None


async def run_scenario(ctx: ScenarioContext, name: str, *, undo: bool = False) -> str:
    """Apply (or undo) scenario ``name``; returns a one-line description of what happened on chain."""
    scenario = get_scenario(name)
    if undo:
        return await scenario.undo(ctx)
    return await scenario.apply(ctx)
