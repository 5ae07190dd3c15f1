"""The one protocol every action kind implements, and the plain values that pass between a kind and the
generic runner.

A kind goes through five steps, always in this order, each called by
:class:`fictra.emergency.runner.ActionRunner` (the runner records the events and keeps the status):

``plan``     what the kind will do for these parameters (the transactions it sends; ``[]`` when it acts
             off chain). Pure with respect to state: the runner caches it per (action, params hash).
``dry_run``  simulate the plan against current state; nothing is signed, sent or changed.
``execute``  carry the action as far as it can go now: ``"done"`` (ready to verify), ``"waiting"`` (a
             Timelock delay, a governance vote: the runner comes back later) or ``"failed"`` (the kind
             recorded why). Called again after a restart: it must resume, never repeat a side effect.
``observe``  read the state the kind changes (the chain, the platform, the database).
``verify``   judge an observation: does it show what the kind intends?

Adding a kind: one module with a class satisfying :class:`Kind` and one line in
:mod:`fictra.emergency.kinds.registry` (docs/emergency.md, "How to add an action kind").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from fictra.emergency.kinds.context import KindContext
    from fictra.emergency.kinds.spec import Definition

__all__ = ["ActionFacts", "DryRunResult", "Kind", "Observation", "PlannedCall", "Progress"]

Progress = Literal["done", "waiting", "failed"]


@dataclass(frozen=True)
class ActionFacts:
    """What a kind sees of an action: read-only, taken at the start of a step."""

    id: int
    kind: str
    params: dict[str, Any]
    params_hash: str
    status: str
    executed_by: str | None = None
    state: dict[str, Any] = field(default_factory=dict)  # the kind's own progress notes (timelock_op)


@dataclass(frozen=True)
class PlannedCall:
    """One transaction of a plan, sent by the generic on-chain execution in order of ``step``."""

    step: int
    label: str
    signer: str  # the emergency.yaml signer name: guardian | governance | ...
    to: str
    data: str
    wait_ready: bytes | None = None  # a Timelock operation id that must be ready first
    wait_proposal: tuple[int, str] | None = None  # (Governor proposal id, state it must be in first)
    effect: tuple[str, str, str] | None = None  # (from, to, data) simulated as the eventual effect


@dataclass(frozen=True)
class Observation:
    """What ``observe`` read: a sentence and the structured values behind it."""

    text: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DryRunResult:
    block_number: int
    ok: bool
    traced: bool
    steps: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""


class Kind(Protocol):
    """An action kind. ``definition`` is its data (params, permission, proposers, rule, signer)."""

    @property
    def definition(self) -> Definition: ...

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]: ...

    async def dry_run(
        self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]
    ) -> DryRunResult: ...

    async def execute(self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]) -> Progress: ...

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation: ...

    def verify(self, action: ActionFacts, seen: Observation) -> bool: ...
