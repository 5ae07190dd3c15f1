"""config/emergency.yaml: the shipped file loads; bad input gives every problem as file:key: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.support import config_dir, problems_of
from fictra.config.problems import ConfigProblems
from fictra.emergency.config import expand_path
from fictra.emergency.definitions import DEFINITIONS, definition
from fictra.platform.config_set import load_config_set

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_config_loads_with_every_policy_disabled_by_design() -> None:
    config = load_config_set(REPO / "config").emergency
    assert config.config_dir == REPO / "config"
    assert set(config.signers) == {"guardian", "governance", "issuer", "reserve"}
    assert config.policies["reserve-drain-pause"].action == "pause_all"
    assert "enabled" not in type(config.policies["reserve-drain-pause"]).model_fields
    path = expand_path(config.signers["guardian"].keystore, config_dir=REPO / "config", data_dir=Path("/d"))
    assert path == Path("/d/devnet/keys/guardian.json")


def test_absent_file_means_defaults(tmp_path: Path) -> None:
    config = load_config_set(config_dir(tmp_path)).emergency
    assert config.signers == {} and config.confirmations == 2 and config.config_dir == tmp_path


def test_every_problem_is_reported_with_its_key(tmp_path: Path) -> None:
    (config_dir(tmp_path) / "emergency.yaml").write_text(
        """
confirmations: -1
colour: blue
signers:
  guardian: {keystore: k.json, passphrase: hunter2}
approvals:
  pause_all: {count: 1, roles: [security_officer], must_include: [operations_manager]}
  launch_missiles: {count: 1, roles: [admin]}
  unpause_all: {count: 2, roles: [wizard]}
policies:
  - {name: p1, when: {monitor: contract-status}, action: unpause_all}
  - {name: p1, when: {monitor: contract-status}, action: pause_all, params: {x: 1}}
  - {name: p3, when: {monitor: m}, action: nope}
"""
    )
    with pytest.raises(ConfigProblems) as err:
        load_config_set(tmp_path)
    problems = err.value.problems
    assert (
        "emergency.yaml:confirmations: invalid value -1: Input should be greater than or equal to 0"
        in problems
    )
    assert "emergency.yaml:colour: unknown key" in problems
    assert any(
        p.startswith("emergency.yaml:signers.guardian.passphrase: must be a secret reference")
        for p in problems
    )
    assert any(
        p.startswith("emergency.yaml:approvals.unpause_all.roles: unknown role 'wizard'") for p in problems
    )
    assert err.value.exit_code == 2


def test_cross_checks_after_the_schema(tmp_path: Path) -> None:
    (config_dir(tmp_path) / "emergency.yaml").write_text(
        """
approvals:
  pause_all: {count: 1, roles: [security_officer], must_include: [operations_manager], ttl: 10m}
  launch_missiles: {count: 1, roles: [admin]}
policies:
  - {name: p1, when: {monitor: contract-status}, action: unpause_all}
  - {name: p1, when: {monitor: contract-status}, action: pause_all, params: {x: 1}}
  - {name: p3, when: {monitor: m, events: []}, action: nope}
"""
    )
    assert problems_of(tmp_path) == [
        "emergency.yaml:approvals.launch_missiles: unknown action kind; expected one of: "
        + ", ".join(DEFINITIONS),
        "emergency.yaml:approvals.pause_all.must_include: 'operations_manager' is not among roles",
        "emergency.yaml:policies.0.action: 'unpause_all' cannot be automatic (only immediate containment "
        "actions: pause_all, halt_trading, emergency_shutdown, isolate, restart)",
        "emergency.yaml:policies.1.name: policy name 'p1' is used twice",
        "emergency.yaml:policies.1.params: Parameters of 'pause_all' are invalid: x: unknown parameter. "
        "Schema: no parameters.",
        "emergency.yaml:policies.2.action: unknown action kind 'nope'; expected one of: "
        + ", ".join(DEFINITIONS),
    ]


def test_a_rule_override_applies_to_new_actions(tmp_path: Path) -> None:
    (config_dir(tmp_path) / "emergency.yaml").write_text(
        "approvals:\n  pause_all: {count: 2, roles: [security_officer, technical_lead], ttl: 10m}\n"
    )
    config = load_config_set(tmp_path).emergency
    rule = definition("pause_all", config.rules).rule
    assert rule.count == 2 and rule.ttl.total_seconds() == 600 and not rule.proposer_counts
