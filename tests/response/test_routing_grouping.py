"""Routing tree and aggregation groups (Alertmanager semantics), pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from fictra.response.config import RoutingConfig
from fictra.response.grouping import Dispatcher, GroupedAlert
from fictra.response.matchers import parse_matcher
from fictra.response.routing import match_routes

T0 = datetime(2026, 1, 1, tzinfo=UTC)

TREE = RoutingConfig.model_validate(
    {
        "route": {
            "receiver": "log",
            "group_by": ["monitor"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {"matchers": ['severity="P0"'], "receiver": "pager", "continue": True, "group_wait": "0s"},
                {
                    "matchers": ['monitor=~"node.*"'],
                    "receiver": "infra",
                    "routes": [{"matchers": ["endpoint=backup"], "receiver": "infra-backup"}],
                },
                {"matchers": ['monitor=~"node.*"'], "receiver": "never"},
            ],
        },
    }
)


def receivers(labels: dict[str, str]) -> list[str]:
    return [r.receiver for r in match_routes(TREE.route, labels)]


def test_root_catches_what_no_child_matches() -> None:
    assert receivers({"severity": "P2", "monitor": "oracle"}) == ["log"]


def test_continue_goes_on_to_later_siblings_and_first_match_stops() -> None:
    assert receivers({"severity": "P0", "monitor": "node-health"}) == ["pager", "infra"]
    assert receivers({"severity": "P1", "monitor": "node-health"}) == ["infra"]


def test_nested_route_and_inherited_options() -> None:
    [opts] = match_routes(TREE.route, {"monitor": "node-lag", "endpoint": "backup"})
    assert opts.receiver == "infra-backup"
    assert opts.group_by == ("monitor",) and opts.group_wait == timedelta(seconds=30)
    [pager, _] = match_routes(TREE.route, {"severity": "P0", "monitor": "node"})
    assert pager.group_wait == timedelta(0) and pager.repeat_interval == timedelta(hours=4)


def test_regex_matchers_are_anchored_and_negations_work() -> None:
    assert parse_matcher('monitor=~"node"').matches({"monitor": "node-health"}) is False
    assert parse_matcher('monitor!~"node.*"').matches({"monitor": "oracle"}) is True
    assert parse_matcher("team!=ops").matches({}) is True
    assert parse_matcher("missing=").matches({}) is True


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"route": {"receiver": "nope"}}, None),
        ({"route": {"receiver": "log", "matchers": ["a=b"]}}, "root route matches every alert"),
        ({"route": {"receiver": "log", "routes": [{"matchers": ["bad matcher"]}]}}, "is not name="),
        ({"route": {"receiver": "log", "routes": [{"matchers": ['a=~"("']}]}}, "bad regular expression"),
        ({"route": {"receiver": "log", "wat": 1}}, "Extra inputs"),
    ],
)
def test_bad_routing_config(raw: dict, message: str | None) -> None:
    if message is None:
        from fictra.response.loader import ResponseConfig, check_references

        cfg = ResponseConfig(routing=RoutingConfig.model_validate(raw), receivers={"ops-log": ["log"]})
        assert check_references(cfg) == [
            "routing.yaml:route.receiver: unknown receiver 'nope' (receivers.yaml has: ops-log)"
        ]
        return
    with pytest.raises(ValidationError, match=message):
        RoutingConfig.model_validate(raw)


def _alert(i: int, monitor: str, firing: bool = True) -> GroupedAlert:
    return GroupedAlert(i, {"monitor": monitor}, firing, f"alert {i}", "P1")


def test_group_wait_then_interval_then_repeat() -> None:
    [opts] = match_routes(TREE.route, {"monitor": "oracle"})
    d = Dispatcher()
    d.add(opts, _alert(1, "oracle"), now=T0)
    d.add(opts, _alert(2, "oracle"), now=T0 + timedelta(seconds=10))
    d.add(opts, _alert(3, "gas"), now=T0 + timedelta(seconds=10))
    assert d.flush_due(now=T0 + timedelta(seconds=29)) == []
    [first] = d.flush_due(now=T0 + timedelta(seconds=30))
    assert [a.alert_id for a in first.firing] == [1, 2] and first.group_key == "root:{monitor=oracle}"
    [gas] = d.flush_due(now=T0 + timedelta(seconds=40))
    assert [a.alert_id for a in gas.firing] == [3]
    # nothing changed: no flush at the group interval
    assert d.flush_due(now=T0 + timedelta(minutes=6)) == []
    # a new alert joins: flushed at the next interval, not before
    d.add(opts, _alert(4, "oracle"), now=T0 + timedelta(minutes=7))
    assert d.flush_due(now=T0 + timedelta(minutes=7)) == []
    [second] = d.flush_due(now=T0 + timedelta(minutes=11))
    assert sorted(a.alert_id for a in second.firing) == [1, 2, 4]
    # unchanged but still firing: repeated after repeat_interval
    assert d.flush_due(now=T0 + timedelta(hours=2)) == []
    again = d.flush_due(now=T0 + timedelta(hours=4, minutes=12))
    assert [(g.group_key, g.flush) for g in again] == [
        ("root:{monitor=oracle}", 3),
        ("root:{monitor=gas}", 2),
    ]


def test_resolved_alerts_flush_once_and_empty_groups_go_away() -> None:
    [opts] = match_routes(TREE.route, {"monitor": "oracle"})
    d = Dispatcher()
    d.add(opts, _alert(1, "oracle"), now=T0)
    d.flush_due(now=T0 + timedelta(seconds=30))
    d.add(opts, _alert(1, "oracle", firing=False), now=T0 + timedelta(minutes=1))
    [done] = d.flush_due(now=T0 + timedelta(minutes=6))
    assert done.firing == [] and [a.alert_id for a in done.resolved] == [1]
    assert d.groups == {} and d.next_due() is None


def test_a_resolved_alert_never_announced_is_not_notified() -> None:
    [opts] = match_routes(TREE.route, {"monitor": "oracle"})
    d = Dispatcher()
    assert d.add(opts, _alert(9, "oracle", firing=False), now=T0) is None
    assert d.groups == {} and d.flush_due(now=T0 + timedelta(hours=1)) == []
