"""Bad config fixtures, each paired with the exact problem(s) the loader must report."""

from __future__ import annotations

from pathlib import Path

import pytest

from fictra.chain.manifest import Manifest
from fictra.config.problems import ConfigProblems
from fictra.platform.config_set import SECTIONS, load_config_set

from .test_config_support import copy_config, devnet_manifest


@pytest.fixture
def manifest() -> Manifest:
    return devnet_manifest()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return copy_config(tmp_path)


KNOWN = (
    "Asset:CASH, Asset:GOLD, Asset:TBILL, EmergencyController, Feed:BRENT, Feed:CASH, Feed:COPPER, "
    "Feed:GOLD, Feed:NATGAS, Feed:TBILL, Feed:WHEAT, Feed:WTI, FoundationToken, Governor, PaymentToken, "
    "Pool:PT-CASH, ProofOfReserve, Reserve, Timelock, UniswapV2Factory"
)
# every file of the one registry, in its order (a new domain's file joins the list by its Section)
FILES = ", ".join(f for section in SECTIONS for f in section.files)
CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "broken-yaml": (
        {"monitors/nodes.yaml": "monitors:\n  - type: node_health\n    name: [oops\n"},
        [
            "monitors/nodes.yaml:4:1: YAML syntax error: expected ',' or ']', but got '<stream end>' "
            "(while parsing a flow sequence at line 3, column 11)"
        ],
    ),
    "bad-indentation": (
        {"alerting.yaml": "ack_deadlines:\n  P0: 5m\n P1: 1h\n"},
        [
            "alerting.yaml:3:2: YAML syntax error: expected <block end>, but found '<block mapping start>' "
            "(while parsing a block mapping at line 1, column 1)"
        ],
    ),
    "unknown-monitor-type": (
        {"monitors/nodes.yaml": "monitors:\n  - type: node_wealth\n    name: rpc\n"},
        [
            "monitors/nodes.yaml:monitors.0.type: unknown monitor type 'node_wealth'; expected one of: "
            "anomaly, concentration, contract_status, event_rule, gas, node_health, oracle, transactions"
        ],
    ),
    "missing-monitor-type": (
        {"monitors/nodes.yaml": "monitors:\n  - name: rpc\n"},
        [
            "monitors/nodes.yaml:monitors.0.type: missing key 'type'; expected one of: "
            "anomaly, concentration, contract_status, event_rule, gas, node_health, oracle, transactions"
        ],
    ),
    "unknown-key": (
        {
            "monitors/nodes.yaml": "monitors:\n  - type: node_health\n    name: rpc\n    thresholds:\n"
            "      max_lagg_blocks: 3\n"
        },
        ["monitors/nodes.yaml:monitors.0.thresholds.max_lagg_blocks: unknown key"],
    ),
    "unknown-top-level-key": (
        {"rules/extra.yaml": "rule:\n  - {name: x, contract: PaymentToken, event: Transfer}\n"},
        ["rules/extra.yaml:rule: unknown key (this file holds only 'rules:')"],
    ),
    "invalid-cel": (
        {
            "rules/extra.yaml": "rules:\n  - name: bad-cel\n    contract: PaymentToken\n    event: Transfer\n"
            "    condition: 'args.value >'\n"
        },
        [
            "rules/extra.yaml:rules.0.condition: invalid CEL expression 'args.value >': 1:13: Syntax error: "
            "mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', "
            "NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}"
        ],
    ),
    "unknown-contract": (
        {
            "rules/extra.yaml": "rules:\n  - {name: ghost, contract: PaymentTokn, event: Transfer}\n",
            "monitors/nodes.yaml": "monitors:\n  - {type: gas, name: g, contracts: [Reserve, 'Feed:OIL']}\n",
        },
        [
            "monitors/nodes.yaml:monitors.0.contracts.1: unknown contract 'Feed:OIL'; known: " + KNOWN,
            "rules/extra.yaml:rules.0.contract: unknown contract 'PaymentTokn'; known: " + KNOWN,
        ],
    ),
    "unknown-event": (
        {"rules/extra.yaml": "rules:\n  - {name: ghost, contract: Reserve, event: Withdrawal}\n"},
        [
            "rules/extra.yaml:rules.0.event: contract 'Reserve' has no event 'Withdrawal'; it has: "
            "AssetAdded, Deposited, Initialized, Paused, PaymentTokenIssued, PaymentTokenRedeemed, "
            "RoleAdminChanged, RoleGranted, RoleRevoked, Unpaused, Upgraded, Withdrawn"
        ],
    ),
    "bad-secret-reference": (
        {
            "network.yaml": "name: devnet\nchain_id: 31337\nendpoints:\n  - {name: a, url: 'env:rpc url'}\n"
            "  - {name: b, url: 'vault:secret/rpc'}\n  - {name: c, url: 'file:'}\n"
        },
        [
            "network.yaml:endpoints.0.url: bad secret reference 'env:rpc url': 'env:' must be followed by an "
            "environment variable name (letters, digits, _)",
            "network.yaml:endpoints.1.url: bad secret reference scheme 'vault:'; use env:VAR, file:path or a "
            "plain value",
            "network.yaml:endpoints.2.url: bad secret reference 'file:': 'file:' must be followed by a path",
        ],
    ),
    "invalid-values": (
        {
            "monitors/nodes.yaml": "monitors:\n  - type: oracle\n    name: o\n    severity: {stale: P7}\n"
            "    thresholds: {staleness_grace: soon}\n    confirmations: -1\n"
        },
        [
            "monitors/nodes.yaml:monitors.0.confirmations: invalid value -1: Input should be greater than or "
            "equal to 0",
            "monitors/nodes.yaml:monitors.0.severity.stale: invalid value 'P7': Input should be 'P0', 'P1', "
            "'P2' or 'P3'",
            "monitors/nodes.yaml:monitors.0.thresholds.staleness_grace: 'soon' is not a duration; use "
            "seconds or a number with ms/s/m/h/d, e.g. '15m'",
        ],
    ),
    "duplicate-name": (
        {"monitors/nodes.yaml": "monitors:\n  - {type: gas, name: large-pt-transfer}\n"},
        [
            "rules/tokens.yaml:rules.0.name: duplicate name 'large-pt-transfer' (first defined in "
            "monitors/nodes.yaml:monitors.0)"
        ],
    ),
    "rule-needs-event-or-function": (
        {
            "rules/extra.yaml": "rules:\n  - {name: both, contract: Reserve, event: Withdrawn,\n"
            "     function: withdraw}\n"
        },
        ["rules/extra.yaml:rules.0: give exactly one of `event` or `function`"],
    ),
    "unknown-endpoint-and-feed": (
        {
            "monitors/nodes.yaml": "monitors:\n  - {type: node_health, name: n, endpoints: [local, backup]}\n"
            "  - {type: oracle, name: o, contracts: ['Feed:BRENT'],\n"
            "     thresholds: {bounds: {'Feed:GOLD': {min: 1}}}}\n"
        },
        [
            "monitors/nodes.yaml:monitors.0.endpoints.1: unknown endpoint 'backup'; known: local",
            "monitors/nodes.yaml:monitors.1.thresholds.bounds.Feed:GOLD: feed 'Feed:GOLD' is not in this "
            "monitor's contracts",
        ],
    ),
    "missing-network": (
        {"network.yaml": None},
        ["network.yaml: file is missing (the chain and its RPC endpoints)"],
    ),  # type: ignore[dict-item]
    "duplicate-yaml-key": (
        {"monitors/nodes.yaml": "monitors:\n  - type: gas\n    name: g\n    name: h\n"},
        ["monitors/nodes.yaml:4:5: YAML syntax error: duplicate key 'name' in one mapping"],
    ),
    "unknown-entries": (
        {"monitor/nodes.yaml": "monitors: []\n", "alerts.yaml": "x: 1\n"},
        [
            f"alerts.yaml: unknown config entry; expected one of: {FILES}",
            f"monitor/: unknown config entry; expected one of: {FILES}",
        ],
    ),
    "bad-alerting": (
        {"alerting.yaml": "ack_deadlines: {P0: fast, P5: 1m}\nhistory_size: 0\n"},
        [
            "alerting.yaml:ack_deadlines.P0: 'fast' is not a duration; use seconds or a number with "
            "ms/s/m/h/d, e.g. '15m'",
            "alerting.yaml:ack_deadlines.P5: unknown key",
            "alerting.yaml:history_size: invalid value 0: Input should be greater than or equal to 1",
        ],
    ),
    "incomplete-network": (
        {"network.yaml": "name: devnet\nendpoints: []\n"},
        [
            "network.yaml:chain_id: required key is missing",
            "network.yaml:endpoints: List should have at least 1 item after validation, not 0",
        ],
    ),
    "monitors-file-not-a-mapping": (
        {"monitors/nodes.yaml": "- type: gas\n"},
        ["monitors/nodes.yaml:(top): expected a mapping with a 'monitors:' list"],
    ),
    "monitor-not-a-mapping": (
        {"monitors/nodes.yaml": "monitors:\n  - 5\n"},
        [
            "monitors/nodes.yaml:monitors.0: invalid value 5: Input should be a valid dictionary or "
            "object to extract fields from"
        ],
    ),
    "unknown-label-arg": (
        {
            "rules/extra.yaml": "rules:\n  - {name: t, contract: Reserve, event: Withdrawn,\n"
            "     label_args: [asset, who]}\n"
        },
        [
            "rules/extra.yaml:rules.0.label_args.1: event 'Withdrawn' has no argument 'who'; it has: amount, "
            "asset, to"
        ],
    ),
    "bad-template": (
        {
            "rules/extra.yaml": "rules:\n  - {name: t, contract: Reserve, event: Withdrawn,\n"
            "     summary: 'x {amount}'}\n"
        },
        [
            "rules/extra.yaml:rules.0.summary: template field '{amount}' must start with one of: address, "
            "args, block, contract, event, function, network, rule, tx"
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_reports_the_exact_problem(case: str, config_dir: Path, manifest: Manifest) -> None:
    files, expected = CASES[case]
    for rel, text in files.items():
        if text is None:
            (config_dir / rel).unlink()
        else:
            (config_dir / rel).parent.mkdir(exist_ok=True)
            (config_dir / rel).write_text(text)
    before = {p: p.read_bytes() for p in config_dir.rglob("*") if p.is_file()}
    with pytest.raises(ConfigProblems) as info:
        load_config_set(config_dir, manifest=manifest)
    assert info.value.problems == expected
    assert info.value.exit_code == 2
    assert {p: p.read_bytes() for p in config_dir.rglob("*") if p.is_file()} == before  # nothing written


def test_every_problem_of_every_file_is_reported_together(config_dir: Path, manifest: Manifest) -> None:
    files = {
        **CASES["broken-yaml"][0],
        **CASES["bad-secret-reference"][0],
        "rules/cel.yaml": CASES["invalid-cel"][0]["rules/extra.yaml"],
        "rules/ghost.yaml": CASES["unknown-contract"][0]["rules/extra.yaml"],
    }
    for rel, text in files.items():
        (config_dir / rel).write_text(text)
    with pytest.raises(ConfigProblems) as info:
        load_config_set(config_dir, manifest=manifest)
    assert info.value.problems == [
        *CASES["bad-secret-reference"][1],
        *CASES["broken-yaml"][1],
        CASES["invalid-cel"][1][0].replace("rules/extra.yaml", "rules/cel.yaml"),
        CASES["unknown-contract"][1][1].replace("rules/extra.yaml", "rules/ghost.yaml"),
    ]
    assert info.value.user_message.startswith(f"Config in '{config_dir}' has 6 problems:\n  network.yaml:")


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblems, match="not a directory"):
        load_config_set(tmp_path / "nope")
