"""config/incidents.yaml: the shipped file loads; bad input each paired with its exact problem lines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from config.support import config_dir, problems_of
from fictra.config.problems import ConfigProblems
from fictra.incidents.config import IncidentsConfig
from fictra.platform.config_set import load_config_set

REPO = Path(__file__).resolve().parents[2]


def test_shipped_config_loads_with_the_runbook_cadence() -> None:
    cfg = load_config_set(REPO / "config").incidents
    assert {k: v for k, v in cfg.cadence.items()} == {
        "P0": timedelta(minutes=30),
        "P1": timedelta(hours=1),
        "P2": timedelta(hours=4),
        "P3": timedelta(hours=24),
    }
    assert cfg.channels_of("ops-log") == ["log"]
    assert cfg.receiver_of_person("lead") == "ops-log"
    rules = cfg.auto_declare
    assert rules.category_of("contract-status", {"condition": "reserve_breach"}) == "smart_contract"
    assert rules.category_of("contract-status", {"condition": "trading_halted"}) == "market"
    assert rules.category_of("commodity-oracles", {}) == "oracle"
    assert rules.category_of("rpc-health", {}) == "infrastructure"
    assert problems_of(REPO / "config") == []


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    cfg = load_config_set(config_dir(tmp_path)).incidents
    assert cfg == IncidentsConfig() and cfg.auto_declare.severities == ["P0"]


BAD = [
    ("cadence: {P9: 1h}\n", ["incidents.yaml:cadence: unknown severity P9; expected P0, P1, P2 or P3"]),
    ("cadence: {P0: 0s}\n", ["incidents.yaml:cadence: cadence of P0 must be positive"]),
    (
        "groups: {press: [ops-log]}\n",
        [
            "incidents.yaml:groups: unknown stakeholder group press; expected one of: technical_team, "
            "business_team, sovereign_participants, market_participants, regulators"
        ],
    ),
    (
        "groups: {regulators: [nowhere]}\nreminder_receiver: nobody\n",
        [
            "incidents.yaml:groups.regulators.0: unknown receiver 'nowhere' (receivers.yaml has: ops-log)",
            "incidents.yaml:reminder_receiver: unknown receiver 'nobody' (receivers.yaml has: ops-log)",
        ],
    ),
    (
        "auto_declare: {severities: [P7], categories: [{monitor: x, category: weather}], colour: red}\n",
        [
            "incidents.yaml:auto_declare.severities: unknown severity P7; expected P0, P1, P2 or P3",
            "incidents.yaml:auto_declare.categories.0.category: unknown category 'weather'; expected one of: "
            "smart_contract, security, market, infrastructure, oracle, compliance",
            "incidents.yaml:auto_declare.colour: unknown key",
        ],
    ),
]


@pytest.mark.parametrize(("text", "problems"), BAD)
def test_bad_config_names_every_problem(tmp_path: Path, text: str, problems: list[str]) -> None:
    (config_dir(tmp_path, "receivers.yaml") / "incidents.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigProblems) as exc:
        load_config_set(tmp_path)
    assert exc.value.problems == problems


def test_auto_declare_roles_name_known_schedules(tmp_path: Path) -> None:
    (config_dir(tmp_path, "receivers.yaml", "oncall.yaml") / "incidents.yaml").write_text(
        "auto_declare: {roles: {commander: first-line, responder: nights}}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigProblems) as exc:
        load_config_set(tmp_path)
    assert exc.value.problems == [
        "incidents.yaml:auto_declare.roles.responder: unknown on-call schedule 'nights' "
        "(oncall.yaml has: first-line)"
    ]
    (tmp_path / "incidents.yaml").write_text("auto_declare: {roles: {boss: first-line}}\n", encoding="utf-8")
    assert problems_of(tmp_path) == [
        "incidents.yaml:auto_declare.roles: unknown incident role boss; expected one of: commander, scribe, "
        "liaison, responder"
    ]
