"""Inhibition and silences in the pipeline: muted alerts are stored, neither notified nor escalated."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fictra.alerting.findings import Severity
from fictra.alerting.queries import list_alerts
from fictra.auth.actor import cli_actor
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.response.config import InhibitConfig
from fictra.response.inhibit import Inhibitor, Source
from fictra.response.models import AlertResponse
from fictra.response.silences import create_silence, expire_silence, list_silences

from .helpers import Harness, finding, make_config

NODE_RULES = {
    "inhibit_rules": [
        {
            "source_matchers": ['monitor="test-node_down"'],
            "target_matchers": ['monitor=~"test-(lag|stale)"'],
            "equal": ["node"],
        }
    ]
}


def test_inhibitor_needs_equal_labels_and_never_mutes_itself() -> None:
    rules = InhibitConfig.model_validate(NODE_RULES).inhibit_rules
    src = {"monitor": "test-node_down", "node": "a"}
    inh = Inhibitor(rules, [Source(1, src)])
    assert (
        inh.mutes({"monitor": "test-lag", "node": "a"}, alert_id=2) == "inhibited by alert 1 (inhibit rule 0)"
    )
    assert inh.mutes({"monitor": "test-lag", "node": "b"}, alert_id=2) is None
    assert inh.mutes({"monitor": "test-gas", "node": "a"}, alert_id=2) is None
    self_rules = InhibitConfig.model_validate(
        {"inhibit_rules": [{"source_matchers": ["x=1"], "target_matchers": ["x=1"]}]}
    ).inhibit_rules
    assert Inhibitor(self_rules, [Source(5, {"x": "1"})]).mutes({"x": "1"}, alert_id=5) is None


async def test_node_down_mutes_that_nodes_lag_and_staleness(sessions, clock) -> None:
    h = Harness(sessions, clock, make_config(inhibit=NODE_RULES))
    [down] = await h.fire(finding("node_down", node="a"))
    lag_a, stale_a, lag_b = await h.fire(
        finding("lag", Severity.P1, node="a"),
        finding("stale", Severity.P1, node="a"),
        finding("lag", Severity.P1, node="b"),
    )
    async with sessions() as session:
        rows = {r.alert_id: r for r in (await session.execute(AlertResponse.__table__.select())).all()}
        stored = await list_alerts(session, status="firing")
    assert {a.id for a in stored} == {down, lag_a, stale_a, lag_b}  # muted alerts are still recorded
    assert rows[lag_a].muted_by == f"inhibited by alert {down} (inhibit rule 0)"
    assert rows[stale_a].muted_by is not None and rows[lag_b].muted_by is None
    assert await h.steps(lag_a) == [] and len(await h.steps(lag_b)) == 1
    clock.advance(60)
    await h.tick()
    groups = [n for n in await h.outbox() if n.idempotency_key.startswith("group:")]
    notified = " ".join(n.message["body"] for n in groups)
    assert "lag happened" in notified and notified.count("lag happened") == 1  # node b only


async def test_inhibited_alert_escalates_once_the_source_resolves(sessions, clock) -> None:
    h = Harness(sessions, clock, make_config(inhibit=NODE_RULES))
    down_f = finding("node_down", node="a")
    await h.fire(down_f)
    [lag] = await h.fire(finding("lag", Severity.P1, node="a"))
    assert await h.steps(lag) == []
    await h.clear(down_f)
    clock.advance(60)
    await h.tick()
    assert [s.reason for s in await h.steps(lag)] == ["timeout"]


async def test_silence_mutes_matching_alerts_until_it_ends(sessions, clock) -> None:
    h = Harness(sessions, clock, make_config())
    async with sessions.begin() as session:
        silence = await create_silence(
            session,
            matchers=['monitor="test-maint"'],
            starts_at=None,
            ends_at=clock.now() + timedelta(minutes=30),
            comment="maintenance",
            actor=cli_actor("tester"),
            clock=clock,
        )
    [muted] = await h.fire(finding("maint"))
    [loud] = await h.fire(finding("other"))
    assert await h.steps(muted) == [] and len(await h.steps(loud)) == 1
    clock.advance(20 * 60)
    await h.tick()
    assert await h.steps(muted) == []
    async with sessions.begin() as session:
        await expire_silence(session, silence_id=silence.id, actor=cli_actor("tester"), clock=clock)
        assert await list_silences(session, now=clock.now()) == []
        with pytest.raises(ConflictError, match="already ended"):
            await expire_silence(session, silence_id=silence.id, actor=cli_actor("tester"), clock=clock)
        with pytest.raises(NotFoundError):
            await expire_silence(session, silence_id=999, actor=cli_actor("tester"), clock=clock)
    clock.advance(60)
    await h.tick()
    assert [s.reason for s in await h.steps(muted)] == ["timeout"]


@pytest.mark.parametrize(
    ("matchers", "ends_in", "comment", "message"),
    [
        ([], 60, "x", "at least one matcher"),
        (['monitor=~".*"'], 60, "x", "match every alert"),
        (["not a matcher"], 60, "x", "is not name="),
        (["a=b"], -60, "x", "must be after its start"),
        (["a=b"], 60, "  ", "needs a comment"),
    ],
)
async def test_bad_silences_are_refused(sessions, clock, matchers, ends_in, comment, message) -> None:
    async with sessions.begin() as session:
        with pytest.raises(UsageError, match=message):
            await create_silence(
                session,
                matchers=matchers,
                starts_at=None,
                ends_at=clock.now() + timedelta(seconds=ends_in),
                comment=comment,
                actor=cli_actor("t"),
                clock=clock,
            )


async def test_silenced_alert_still_breaches_its_sla_but_wakes_nobody(sessions, clock) -> None:
    h = Harness(sessions, clock, make_config())
    async with sessions.begin() as session:
        await create_silence(
            session,
            matchers=['monitor="test-maint"'],
            starts_at=None,
            ends_at=clock.now() + timedelta(hours=2),
            comment="maintenance",
            actor=cli_actor("tester"),
            clock=clock,
        )
    [muted] = await h.fire(finding("maint"))
    clock.advance(16 * 60)
    result = await h.tick()
    assert result.ack_breaches == [muted] and result.escalated == []
    assert await h.steps(muted) == []
    clock.advance(16 * 60)
    assert (await h.tick()).ack_breaches == []  # recorded once


def test_inhibit_sources_are_narrowed_to_named_monitors_only_when_every_rule_names_one() -> None:
    from fictra.response.pipeline import _source_monitors

    named = InhibitConfig.model_validate(NODE_RULES).inhibit_rules
    assert _source_monitors(named) == {"test-node_down"}
    regex = InhibitConfig.model_validate(
        {
            "inhibit_rules": [
                *NODE_RULES["inhibit_rules"],
                {"source_matchers": ['monitor=~"x.*"'], "target_matchers": ["a=b"]},
            ]
        }
    ).inhibit_rules
    assert _source_monitors(regex) is None
