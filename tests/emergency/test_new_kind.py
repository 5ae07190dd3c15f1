"""The extension point: a kind defined and registered here (one class, one ``register`` call — the
registry line) goes through propose → approve → dry run → execute → verify with the generic service and
runner, with no edit anywhere else; and no ``kind ==`` branch is left outside the kind modules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import Field

from emergency.people import LEAD, OPS, SECURITY
from emergency.rig import Rig
from fictra.emergency.kinds import registry
from fictra.emergency.kinds.base import ActionFacts, DryRunResult, Observation, PlannedCall, Progress
from fictra.emergency.kinds.context import KindContext
from fictra.emergency.kinds.spec import RECOVERY, Definition, Params
from fictra.errors import PermissionDeniedError

SRC = Path(__file__).resolve().parents[2] / "src" / "fictra"
FLAGS: dict[str, str] = {}  # the "system" this test kind operates on


class FlagParams(Params):
    flag: str = Field(min_length=1, max_length=50)
    value: str = Field(min_length=1, max_length=50)


class SetFlag:
    """A test-only kind: sets a flag in memory; verified by reading it back."""

    definition = Definition(
        "set_flag", "Set a flag", "Test kind.", FlagParams, ("operations_manager", "technical_lead"),
        RECOVERY, "none", "test", example={"flag": "mode", "value": "safe"},
    )  # fmt: skip

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        return []

    async def dry_run(self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]) -> DryRunResult:
        now = await self.observe(ctx, action)
        return DryRunResult(
            await ctx.reader.head(), True, False, [{"now": now.text}], f"would set; {now.text}"
        )

    async def execute(self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]) -> Progress:
        FLAGS[action.params["flag"]] = action.params["value"]
        await ctx.recorder.event(action.id, "applied", f"flag {action.params['flag']} set")
        return "done"

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        value = FLAGS.get(action.params["flag"])
        return Observation(f"flag {action.params['flag']} is {value}", {"value": value})

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        return bool(seen.details["value"] == action.params["value"])


@pytest.fixture
def set_flag() -> Iterator[None]:
    registry.register(SetFlag())
    try:
        yield
    finally:
        registry.unregister("set_flag")
        FLAGS.clear()


@pytest.mark.usefixtures("set_flag")
async def test_a_new_kind_plugs_in_with_one_module_and_one_registry_line(rig: Rig) -> None:
    with pytest.raises(PermissionDeniedError, match="may not propose 'set_flag'"):
        await rig.propose("set_flag", SECURITY, params={"flag": "mode", "value": "safe"})
    view = await rig.propose("set_flag", OPS, params={"flag": "mode", "value": "safe"})
    assert view.status == "proposed" and view.title == "Set a flag"
    view = await rig.approve(view, LEAD)
    assert view.status == "approved"
    dry = await rig.runner.dry_run(view.id)
    assert dry.ok and "flag mode is None" in dry.summary
    done = await rig.runner.execute(view.id, OPS)
    assert done.status == "verified", done.error
    assert FLAGS == {"mode": "safe"}
    assert done.verification == {"ok": True, "text": "flag mode is safe", "value": "safe"}
    assert [e.kind for e in done.events] == [
        "proposed", "approved", "approved", "dry_run", "executing", "applied", "verified",
    ]  # fmt: skip


def test_no_kind_branches_outside_the_kind_modules() -> None:
    pattern = re.compile(r"\bkind\s*(==|!=|in\s*\()|\.kind\s*(==|!=)\s*[\"']|startswith\(\"policy_")
    found = []
    for path in (SRC / "emergency").rglob("*.py"):
        if "kinds" in path.relative_to(SRC / "emergency").parts:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and "event.kind" not in line and "ActionEvent.kind" not in line:
                found.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert found == []
